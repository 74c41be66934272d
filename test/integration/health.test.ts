import { describe, expect, it } from 'vitest';

import { buildTestApp } from '../helpers/test-app.ts';
import { createTestDatabase } from '../helpers/test-db.ts';

const database = await createTestDatabase();

describe('health', () => {
  it('answers liveness and readiness against the real database', async () => {
    const app = await buildTestApp({ db: database.db });
    const live = await app.inject({ method: 'GET', url: '/healthz' });
    expect(live.statusCode).toBe(200);
    expect(live.json()).toEqual({ status: 'ok' });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready' });
    await app.close();
  });

  it('answers 503 shutting_down from /readyz once the instance drains, still live', async () => {
    const app = await buildTestApp({ db: database.db });
    app.draining = true;
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({
      error: { code: 'shutting_down', message: 'This instance is shutting down' },
    });
    const live = await app.inject({ method: 'GET', url: '/healthz' });
    expect(live.json()).toEqual({ status: 'ok' });
    await app.close();
  });

  it('answers unknown routes with the JSON error envelope', async () => {
    const app = await buildTestApp({ db: database.db });
    const response = await app.inject({ method: 'GET', url: '/no/such/route' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({
      error: { code: 'not_found', message: 'No route for GET /no/such/route' },
    });
    await app.close();
  });
});
