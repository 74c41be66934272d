import { z } from 'zod';

/**
 * The wire contract between the settings page and the backend. The page parses every
 * answer with these schemas; the backend's tests check its real answers against the same
 * schemas and fixtures. Only imports `zod` (HubSpot bundles it with the page).
 */

/** The backend origin: must be listed in `app-hsmeta.json` `permittedUrls.fetch`. */
export const BACKEND_ORIGIN = 'https://lexicontract.example.com';

export const SETTINGS_PATH = '/api/v1/integrations/hubspot/settings';
export const SETTINGS_OPTIONS_PATH = '/api/v1/integrations/hubspot/settings/options';
export const SETTINGS_RETRY_PATH = '/api/v1/integrations/hubspot/settings/retry-failed';
export const SETTINGS_RETURN_PATH_PATH = '/api/v1/integrations/hubspot/settings/return-path';

export const SETTINGS_TIMEOUT_MS = 8_000;

export const ClosedLostBehaviorSchema = z.enum(['cancel_contract', 'do_nothing']);
export type ClosedLostBehavior = z.infer<typeof ClosedLostBehaviorSchema>;

export const AttachmentFilterSchema = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('all') }),
  z.strictObject({
    mode: z.literal('matching'),
    pattern: z
      .string()
      .trim()
      .min(1, 'the name pattern is empty')
      .max(200, 'the name pattern is longer than 200 characters'),
  }),
]);
export type AttachmentFilter = z.infer<typeof AttachmentFilterSchema>;

/** The options an admin sets (also the `PUT /settings/options` body, strict). */
export const SettingsOptionsSchema = z.strictObject({
  /** A deal moved to a closed-lost stage: cancel its open contracts, or leave them. */
  closedLostBehavior: ClosedLostBehaviorSchema,
  /** Which attachments the card preselects and a workflow send imports. */
  attachmentFilter: AttachmentFilterSchema,
});
export type SettingsOptions = z.infer<typeof SettingsOptionsSchema>;

/**
 * What LexiContract writes back onto deals (also the `PUT /settings/return-path` body,
 * strict). Its own endpoint, so these switches and the options above save independently.
 */
export const ReturnPathOptionsSchema = z.strictObject({
  /** Upload the reviewed files to the deal (Files + a note) on approval or signature. */
  writeBackFiles: z.boolean(),
  /** Timeline notes on the deal: sent to legal, decision, new version sent. */
  timelineNotes: z.boolean(),
});
export type ReturnPathOptions = z.infer<typeof ReturnPathOptionsSchema>;

const IsoDate = z.iso.datetime({ offset: true });

export const ConnectionSchema = z.object({
  state: z.enum(['connected', 'needs_reconnect', 'not_connected']),
  portalId: z.string(),
  /** The LexiContract organization the portal is linked to. */
  organizationName: z.string().nullable(),
  installerEmail: z.string().nullable(),
  connectedAt: IsoDate.nullable(),
  lastError: z.string().nullable(),
  /** Starts the install (connect or reconnect) in LexiContract. */
  installUrl: z.url(),
  /** The LexiContract integrations page (disconnect, audit, health). */
  manageUrl: z.url(),
  /** Set when the portal lacks the scopes that write reviewed files back to deals. */
  writeBackNotice: z.object({ message: z.string(), reauthorizeUrl: z.url() }).nullable().optional(),
});
export type Connection = z.infer<typeof ConnectionSchema>;

export const SyncFailureSchema = z.object({
  dealId: z.string(),
  cause: z.string(),
  at: IsoDate,
});

export const SyncHealthSchema = z.object({
  /** Last webhook event received from this portal. */
  lastInboundAt: IsoDate.nullable(),
  /** Last status written onto one of its deals. */
  lastOutboundAt: IsoDate.nullable(),
  pendingCount: z.number().int().nonnegative(),
  /** Deal writes that stopped (refused by HubSpot, or the deal is gone). */
  failedCount: z.number().int().nonnegative(),
  /** Failures grouped by cause, most frequent first. */
  causes: z.array(z.object({ cause: z.string(), count: z.number().int().positive() })).max(20),
  /** The newest failures. */
  failures: z.array(SyncFailureSchema).max(20),
});
export type SyncHealth = z.infer<typeof SyncHealthSchema>;

/** `GET /settings` (200). `health` and `options` are null while the portal is not connected. */
export const SettingsDataSchema = z.object({
  connection: ConnectionSchema,
  health: SyncHealthSchema.nullable(),
  options: SettingsOptionsSchema.nullable(),
  /** Null while the portal is not connected; absent from an older backend. */
  returnPath: ReturnPathOptionsSchema.nullable().optional(),
});
export type SettingsData = z.infer<typeof SettingsDataSchema>;

/** `POST /settings/retry-failed` (200). */
export const RetryResultSchema = z.object({ retried: z.number().int().nonnegative() });
export type RetryResult = z.infer<typeof RetryResultSchema>;

export const ApiErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});
