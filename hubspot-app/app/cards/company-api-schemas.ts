import { z } from 'zod';

import { CardContractSchema, CardNeedsReconnectSchema, HubSpotIdSchema } from './api-schemas.ts';

/**
 * The wire contract between the Company card and the backend (like `api-schemas.ts` for
 * the deal cards: the card parses every answer with these, the server's tests check its
 * real answers against them). Only imports `zod` and the deal cards' schemas.
 */

/** Under the card routes: the paths `hubspot.fetch` calls for the app's cards. */
export const COMPANY_CARD_PATH = '/api/v1/integrations/hubspot/card/company';
export const COMPANY_CARD_LOAD_TIMEOUT_MS = 8_000;

/** The card lists at most this many contracts (most recently changed first). */
export const COMPANY_CARD_CONTRACT_LIMIT = 100;

/** The HubSpot scope the company card needs to read a company's deals (optional at install). */
export const COMPANY_CARD_SCOPE = 'crm.objects.companies.read';

export const CompanyCardContractSchema = CardContractSchema.extend({
  /** The company's deal the contract was made from. */
  dealId: HubSpotIdSchema,
});
export type CompanyCardContract = z.infer<typeof CompanyCardContractSchema>;

export const CompanyCardReadySchema = z.object({
  state: z.literal('ready'),
  company: z.object({ id: HubSpotIdSchema }),
  /** How many deals the company has in HubSpot. */
  dealCount: z.number().int().nonnegative(),
  contracts: z.array(CompanyCardContractSchema).max(COMPANY_CARD_CONTRACT_LIMIT),
  /** More contracts exist than are listed. */
  truncated: z.boolean(),
});
export type CompanyCardReady = z.infer<typeof CompanyCardReadySchema>;

/** The portal has not granted `crm.objects.companies.read`: "re-authorize to see company contracts". */
export const CompanyCardNeedsScopeSchema = z.object({
  state: z.literal('needs_scope'),
  message: z.string(),
  reauthorizeUrl: z.url(),
});
export type CompanyCardNeedsScope = z.infer<typeof CompanyCardNeedsScopeSchema>;

/** `GET /card/company?companyId=…` (200). */
export const CompanyCardDataSchema = z.discriminatedUnion('state', [
  CompanyCardReadySchema,
  CompanyCardNeedsScopeSchema,
  CardNeedsReconnectSchema,
]);
export type CompanyCardData = z.infer<typeof CompanyCardDataSchema>;
