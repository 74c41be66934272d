import { z } from 'zod';

/**
 * The wire contract between the Deal card and the backend. The card parses every answer
 * with these schemas; the backend's tests check its real answers against the same schemas
 * and fixtures, so the two cannot drift. This file only imports `zod`: HubSpot bundles it
 * with the card, and the server imports it from here.
 */

/** The backend origin: must be listed in `app-hsmeta.json` `permittedUrls.fetch`. */
export const BACKEND_ORIGIN = 'https://lexicontract.example.com';

export const CARD_PATH = '/api/v1/integrations/hubspot/card';
export const CARD_SEND_PATH = '/api/v1/integrations/hubspot/card/send';

/** Explicit timeouts (HubSpot's ceiling is 15 s; a send imports the deal, so it gets more). */
export const CARD_LOAD_TIMEOUT_MS = 8_000;
export const CARD_SEND_TIMEOUT_MS = 14_000;

/** HubSpot record ids are positive integers, carried as strings. */
export const HubSpotIdSchema = z.string().regex(/^[1-9][0-9]{0,19}$/, 'must be a HubSpot id');

/** The server's negotiation statuses (test/unit/architecture/status-vocabulary.test.ts keeps them equal). */
export const CONTRACT_STATUSES = [
  'pending_review',
  'in_review',
  'changes_requested',
  'approved',
  'signed',
  'rejected',
  'cancelled',
] as const;
export const ContractStatusSchema = z.enum(CONTRACT_STATUSES);
export type ContractStatus = z.infer<typeof ContractStatusSchema>;

export const ImportStateSchema = z.enum(['importing', 'complete', 'failed']);

export const CardContractSchema = z.object({
  id: z.string().min(1),
  title: z.string(),
  status: ContractStatusSchema,
  statusLabel: z.string(),
  /** Not yet decided (signed, rejected and cancelled are final). */
  open: z.boolean(),
  /** Import of the deal's files: null for contracts not made by an import. */
  importState: ImportStateSchema.nullable(),
  /** ISO 8601: the last change of the contract. */
  lastChangedAt: z.iso.datetime({ offset: true }),
  url: z.url(),
});
export type CardContract = z.infer<typeof CardContractSchema>;

export const CardAttachmentSchema = z.object({
  id: HubSpotIdSchema,
  name: z.string(),
  sizeBytes: z.number().int().nonnegative().nullable(),
  /** Whether LexiContract can import it (type allowed, size within the cap). */
  importable: z.boolean(),
  /** Checked when the card opens: importable and matching the portal's default filter. */
  preselected: z.boolean(),
  /** Why it cannot be imported, or why it is not preselected; null otherwise. */
  note: z.string().nullable(),
});
export type CardAttachment = z.infer<typeof CardAttachmentSchema>;

export const CardReadySchema = z.object({
  state: z.literal('ready'),
  deal: z.object({ id: HubSpotIdSchema, name: z.string() }),
  contracts: z.array(CardContractSchema).max(50),
  /** The newest contract still under review: the button then sends a new version. */
  openContractId: z.string().nullable(),
  attachments: z.array(CardAttachmentSchema).max(200),
  /** Set when the deal was read but its attachments could not be listed. */
  attachmentsError: z.string().nullable(),
  /**
   * Set when the portal has not granted the scopes that write reviewed files back to the
   * deal ("re-authorize to write files back"); everything else keeps working.
   */
  writeBackNotice: z.object({ message: z.string(), reauthorizeUrl: z.url() }).nullable().optional(),
});
export type CardReady = z.infer<typeof CardReadySchema>;

export const CardNeedsReconnectSchema = z.object({
  state: z.literal('needs_reconnect'),
  /** `not_connected`: the portal was never connected (or was disconnected). */
  reason: z.enum(['not_connected', 'needs_reconnect']),
  message: z.string(),
  /** Where an admin (re)connects HubSpot in LexiContract. */
  reconnectUrl: z.url(),
});
export type CardNeedsReconnect = z.infer<typeof CardNeedsReconnectSchema>;

/** `GET /card?dealId=…` (200). */
export const CardDataSchema = z.discriminatedUnion('state', [
  CardReadySchema,
  CardNeedsReconnectSchema,
]);
export type CardData = z.infer<typeof CardDataSchema>;

/** `POST /card/send` body (strict: anything else is refused). */
export const CardSendBodySchema = z.strictObject({
  dealId: HubSpotIdSchema,
  fileIds: z.array(HubSpotIdSchema).max(100).optional(),
  newVersion: z.boolean().optional(),
  /** One per click, so a retried or repeated request returns the first answer. */
  requestId: z.uuid().optional(),
});
export type CardSendBody = z.infer<typeof CardSendBodySchema>;

/** `POST /card/send` (200). */
export const CardSendResultSchema = z.object({
  /** `existing`: an open contract already existed and was returned unchanged. */
  outcome: z.enum(['created', 'new_version', 'existing']),
  contract: CardContractSchema,
  message: z.string(),
});
export type CardSendResult = z.infer<typeof CardSendResultSchema>;

/** Every non-2xx answer of the backend. */
export const ApiErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});
export type ApiError = z.infer<typeof ApiErrorSchema>;

/** Error codes the card shows as the "needs reconnect" state instead of an error. */
export const RECONNECT_ERROR_CODES: readonly string[] = [
  'hubspot_needs_reconnect',
  'hubspot_not_connected',
];
