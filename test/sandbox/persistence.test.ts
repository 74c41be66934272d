import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { deserialize, serialize } from 'node:v8';

import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';

import {
  DEMO_PORTAL_ID,
  demoPortalOf,
  startSandbox,
  type SandboxAppRegistration,
  type SandboxHandle,
} from '../../sandbox/index.ts';
import { STATE_FORMAT } from '../../sandbox/persistence.ts';
import { api, postForm, testApp } from './helpers.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'sandbox-state-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A logger whose lines land in `lines` (pino JSON, parsed). */
function capturingLogger(lines: Array<Record<string, unknown>>) {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return pino({ level: 'info' }, stream);
}

async function start(
  stateFile: string,
  app: SandboxAppRegistration,
  lines: Array<Record<string, unknown>> = [],
  extra: { controlToken?: string } = {},
): Promise<SandboxHandle> {
  return startSandbox({
    app,
    seedDemoPortal: true,
    stateFile,
    logger: capturingLogger(lines),
    ...extra,
  });
}

const DEALS = '/crm/objects/2026-03/deals';

describe('sandbox persistence', () => {
  it('a restart changes nothing a person can see: installs, tokens, properties, deals, notes, files', async () => {
    const stateFile = path.join(dir, 'restart.v8');
    const app = testApp();
    const first = await start(stateFile, app);
    const demo = demoPortalOf(first);
    expect(demo?.portalId).toBe(DEMO_PORTAL_ID);
    const tokens = first.control.installApp(DEMO_PORTAL_ID);
    const token = tokens.access_token;
    // Over HTTP, as the app does: a property, a status on a deal, a new deal.
    expect(
      (
        await api(first, token, 'POST', '/crm/properties/2026-03/deals', {
          name: 'lexicontract_status',
          label: 'LexiContract status',
          groupName: 'dealinformation',
          type: 'enumeration',
          fieldType: 'select',
          options: [
            { label: 'Pending review', value: 'pending_review', displayOrder: 0, hidden: false },
          ],
        })
      ).status,
    ).toBe(201);
    const dealId = demo?.deals.withAttachments ?? '';
    expect(
      (
        await api(first, token, 'POST', `${DEALS}/batch/update`, {
          inputs: [{ id: dealId, properties: { lexicontract_status: 'pending_review' } }],
        })
      ).status,
    ).toBe(200);
    const created = first.control.createDeal(DEMO_PORTAL_ID, { dealname: 'Made before restart' });
    const before = first.control.getDeal(DEMO_PORTAL_ID, dealId);
    const fileIds = first.control.attachNoteWithFiles(DEMO_PORTAL_ID, created.id, [
      { name: 'Kept.pdf', text: 'kept across restarts' },
    ]).fileIds;
    const sha = await first.control.fileSha256(DEMO_PORTAL_ID, fileIds[0] ?? '');
    await first.close();

    const second = await start(stateFile, app);
    try {
      expect(demoPortalOf(second)).toEqual(demo);
      expect(second.control.listPortals()).toEqual([
        expect.objectContaining({ portalId: DEMO_PORTAL_ID, installed: true }),
      ]);
      // The access token and the refresh token issued before the restart still work.
      const read = await api(
        second,
        token,
        'GET',
        `${DEALS}/${dealId}?properties=lexicontract_status,dealname`,
      );
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({
        properties: {
          lexicontract_status: 'pending_review',
          dealname: before?.properties.dealname,
        },
      });
      const refreshed = await postForm(second, '/oauth/2026-03/token', {
        grant_type: 'refresh_token',
        client_id: app.clientId,
        client_secret: app.clientSecret,
        refresh_token: tokens.refresh_token,
      });
      expect(refreshed.status).toBe(200);
      const property = await api(
        second,
        token,
        'GET',
        '/crm/properties/2026-03/deals/lexicontract_status',
      );
      expect(property.status).toBe(200);
      expect(second.control.getDeal(DEMO_PORTAL_ID, dealId)).toEqual(before);
      expect(second.control.getDeal(DEMO_PORTAL_ID, created.id)?.properties.dealname).toBe(
        'Made before restart',
      );
      expect(await second.control.fileSha256(DEMO_PORTAL_ID, fileIds[0] ?? '')).toBe(sha);
      // Ids go on where they stopped: nothing made after the restart collides.
      const next = second.control.createDeal(DEMO_PORTAL_ID, { dealname: 'After restart' });
      expect(BigInt(next.id)).toBeGreaterThan(BigInt(created.id));
    } finally {
      await second.close();
    }
  });

  it('a portal saved before a field was added gets that field as a new portal has it', async () => {
    const stateFile = path.join(dir, 'older-portal.v8');
    const app = testApp();
    const first = await start(stateFile, app);
    await first.close();
    // The saved demo portal without its `notes` map, as a build before notes would have saved it.
    const saved = deserialize(readFileSync(stateFile)) as {
      state: { portals: Map<number, Record<string, unknown>> };
    };
    for (const portal of saved.state.portals.values()) delete portal.notes;
    writeFileSync(stateFile, serialize(saved));
    const second = await start(stateFile, app);
    try {
      const deal = second.control.createDeal(DEMO_PORTAL_ID, { dealname: 'Notes again' });
      expect(
        second.control.attachNoteWithFiles(DEMO_PORTAL_ID, deal.id, [{ name: 'x.pdf' }]).noteId,
      ).toMatch(/^\d+$/);
    } finally {
      await second.close();
    }
  });

  it('an unreadable or older file is reported in one line, kept aside, and the sandbox starts fresh', async () => {
    const app = testApp();
    for (const [name, bytes] of [
      ['damaged.v8', Buffer.from('not a snapshot at all')],
      [
        'old.v8',
        serialize({ format: STATE_FORMAT, version: 0, savedAt: '', state: {}, runtime: {} }),
      ],
    ] as const) {
      const stateFile = path.join(dir, name);
      writeFileSync(stateFile, bytes);
      const lines: Array<Record<string, unknown>> = [];
      const handle = await start(stateFile, app, lines);
      try {
        const warnings = lines.filter((l) => Number(l.level) >= 40);
        expect(warnings).toHaveLength(1);
        expect(String(warnings[0]?.msg)).toContain('starting with a fresh sandbox');
        expect(handle.control.listPortals()).toEqual([
          expect.objectContaining({ portalId: DEMO_PORTAL_ID, installed: false }),
        ]);
        expect(readdirSync(dir)).toContain(`${name}.unreadable`);
      } finally {
        await handle.close();
      }
    }
  });

  it('starting over from the home page forgets everything, also across a restart; cross-site posts are refused', async () => {
    const stateFile = path.join(dir, 'start-over.v8');
    const app = testApp();
    const first = await start(stateFile, app);
    first.control.installApp(DEMO_PORTAL_ID);
    const extra = first.control.createPortal({ name: 'Extra' });
    const dealsBefore = Object.values(demoPortalOf(first)?.deals ?? {});
    const home = await (await fetch(`${first.url}/`)).text();
    expect(home).toContain('action="/start-over"');

    const post = (headers: Record<string, string>) =>
      fetch(`${first.url}/start-over`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: 'confirm=yes',
      });
    expect((await post({ origin: 'https://evil.example' })).status).toBe(403);
    expect((await post({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect(first.control.listPortals()).toHaveLength(2);

    const done = await post({ origin: first.url, 'sec-fetch-site': 'same-origin' });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/');
    expect(first.control.listPortals()).toEqual([
      expect.objectContaining({ portalId: DEMO_PORTAL_ID, installed: false }),
    ]);
    // The demo deals are new ones: no id the app may remember names one of them.
    const dealsAfter = Object.values(demoPortalOf(first)?.deals ?? {});
    expect(dealsAfter).toHaveLength(dealsBefore.length);
    expect(dealsAfter.filter((id) => dealsBefore.includes(id))).toEqual([]);
    first.control.installApp(DEMO_PORTAL_ID);
    // The control API's door, for scripts.
    expect((await fetch(`${first.url}/_sandbox/start-over`, { method: 'POST' })).status).toBe(204);
    await first.close();

    const second = await start(stateFile, app);
    try {
      expect(second.control.listPortals()).toEqual([
        expect.objectContaining({ portalId: DEMO_PORTAL_ID, installed: false }),
      ]);
      expect(second.control.listPortals().some((p) => p.portalId === extra.portalId)).toBe(false);
    } finally {
      await second.close();
    }
  });

  it('a sandbox reachable beyond loopback starts over from the form only with its token', async () => {
    const stateFile = path.join(dir, 'remote.v8');
    const handle = await start(stateFile, testApp(), [], { controlToken: 'the-control-token' });
    try {
      const extra = handle.control.createPortal({ name: 'Extra' });
      const post = (body: string) =>
        fetch(`${handle.url}/start-over`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body,
        });
      expect((await post('confirm=yes')).status).toBe(401);
      expect((await post('confirm=yes&sandbox_token=wrong')).status).toBe(401);
      expect(handle.control.listPortals().some((p) => p.portalId === extra.portalId)).toBe(true);
      expect((await post('confirm=yes&sandbox_token=the-control-token')).status).toBe(303);
      expect(handle.control.listPortals().some((p) => p.portalId === extra.portalId)).toBe(false);
    } finally {
      await handle.close();
    }
  });
});
