import { z } from 'zod';

import { MAX_LIST_LIMIT } from '../core/contracts/contracts-service.ts';
import { NegotiationStatusSchema } from '../core/contracts/status.ts';

/**
 * Request shapes of the LexiContract REST API (SPEC §5). Strict: an unknown field or query
 * parameter is a 400 naming it, so a typo (`externalId`, `status_`) never silently widens a
 * query or drops a change.
 */
export const ListContractsQuerySchema = z.strictObject({
  external_id: z.string().min(1).max(200).optional(),
  external_source: z.string().min(1).max(100).optional(),
  status: NegotiationStatusSchema.optional(),
  limit: z
    .string()
    .regex(/^\d{1,4}$/, 'must be an integer')
    .transform(Number)
    .pipe(z.number().int().min(1).max(MAX_LIST_LIMIT))
    .optional(),
  cursor: z.string().min(1).max(500).optional(),
});
export type ListContractsQuery = z.infer<typeof ListContractsQuerySchema>;

/**
 * Ids are plain strings here: a malformed id is answered exactly like an unknown one (404),
 * the same answer another organization's id gets.
 */
export const ContractParamsSchema = z.strictObject({ id: z.string() });
export const ContractFileParamsSchema = z.strictObject({ id: z.string(), fileId: z.string() });

export const PatchContractBodySchema = z.strictObject({
  negotiation_status: NegotiationStatusSchema,
});
export type PatchContractBody = z.infer<typeof PatchContractBodySchema>;
