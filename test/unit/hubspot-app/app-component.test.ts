import { readFile } from 'node:fs/promises';

import { describe, expect, it } from 'vitest';
import { z } from 'zod';

import { OPTIONAL_SCOPES, REQUIRED_SCOPES } from '../../../server/src/hubspot/install/scopes.ts';

const AppComponentSchema = z.object({
  uid: z.string().regex(/^[a-zA-Z0-9_\-.]{1,64}$/),
  type: z.literal('app'),
  config: z.object({
    distribution: z.literal('marketplace'),
    auth: z.object({
      type: z.literal('oauth'),
      redirectUrls: z.array(z.url()).min(1),
      requiredScopes: z.array(z.string()),
      optionalScopes: z.array(z.string()),
    }),
    permittedUrls: z.object({ fetch: z.array(z.url()) }),
  }),
});

describe('hubspot-app/app/app-hsmeta.json', () => {
  it('asks HubSpot for exactly the scopes the backend requests at install', async () => {
    const app = AppComponentSchema.parse(
      JSON.parse(await readFile('hubspot-app/app/app-hsmeta.json', 'utf8')),
    );
    expect([...app.config.auth.requiredScopes].sort()).toEqual([...REQUIRED_SCOPES].sort());
    expect([...app.config.auth.optionalScopes].sort()).toEqual([...OPTIONAL_SCOPES].sort());
  });

  it('redirects to the fixed callback path on the origin the cards may fetch', async () => {
    const app = AppComponentSchema.parse(
      JSON.parse(await readFile('hubspot-app/app/app-hsmeta.json', 'utf8')),
    );
    for (const redirect of app.config.auth.redirectUrls) {
      const url = new URL(redirect);
      expect(url.protocol).toBe('https:');
      expect(url.pathname).toBe('/api/v1/integrations/hubspot/callback');
      expect(app.config.permittedUrls.fetch).toContain(url.origin);
    }
  });

  it('names srcDir and platform version in hsproject.json', async () => {
    const project = JSON.parse(await readFile('hsproject.json', 'utf8')) as Record<string, unknown>;
    expect(project).toMatchObject({ srcDir: 'hubspot-app', platformVersion: '2026.03' });
  });
});
