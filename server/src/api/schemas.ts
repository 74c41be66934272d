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

export const UploadFileQuerySchema = z.strictObject({
  replaces_file_id: z.string().min(1).max(100).optional(),
});

export const PatchContractBodySchema = z.strictObject({
  negotiation_status: NegotiationStatusSchema,
});
export type PatchContractBody = z.infer<typeof PatchContractBodySchema>;

/*
 * Response shapes. Plain (stripping) objects: the serializer drops any key they do not
 * list, so a field the domain adds later never reaches a caller by accident.
 */
// Presenters write `Date#toISOString()`; documented as a date-time without zod's long pattern.
const Timestamp = z.string().meta({ format: 'date-time' });

export const ContractSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    negotiation_status: NegotiationStatusSchema,
    status_version: z.number().int().min(1),
    external_source: z.string().nullable(),
    external_id: z.string().nullable(),
    external_account_id: z.string().nullable(),
    created_by_source: z.string(),
    created_by: z.string().nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({ id: 'Contract' });

export const ContractFileSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    content_type: z.string(),
    size_bytes: z.number().int().min(0),
    sha256: z.string().describe('Hex SHA-256 of the bytes; also the ETag of the content'),
    external_file_id: z.string().nullable(),
    origin: z
      .enum(['imported', 'uploaded'])
      .describe('`imported` from the CRM record, `uploaded` by legal as a reviewed version'),
    replaces_file_id: z.string().nullable().describe('The version this file supersedes'),
    uploaded_by: z.string().nullable(),
    created_at: Timestamp,
    content_url: z.string().describe('Path of GET …/files/:fileId/content'),
  })
  .meta({ id: 'ContractFile' });

export const StatusChangeSchema = z
  .object({
    from: NegotiationStatusSchema.nullable(),
    to: NegotiationStatusSchema,
    source: z.string(),
    actor: z.string().nullable(),
    at: Timestamp,
  })
  .meta({ id: 'StatusChange' });

export const ContractDetailSchema = ContractSchema.extend({
  source_snapshot: z.unknown().describe('The source record (e.g. the deal) as imported'),
  metadata: z
    .record(z.string(), z.union([z.string(), z.number()]))
    .describe(
      'Contract fields filled from the CRM by the field mapping: counterpartyLegalName, contractValue, currency (ISO code), termStart and termEnd (YYYY-MM-DD), governingLaw, region, and custom.<key> fields',
    ),
  metadata_mapping_version: z
    .number()
    .int()
    .nullable()
    .describe('The field mapping version that filled metadata (null: none)'),
  files: z.array(ContractFileSchema),
  status_history: z.array(StatusChangeSchema),
}).meta({ id: 'ContractDetail' });

export const ContractListSchema = z
  .object({
    data: z.array(ContractSchema),
    next_cursor: z.string().nullable().describe('Pass as `cursor` for the next page'),
  })
  .meta({ id: 'ContractList' });
