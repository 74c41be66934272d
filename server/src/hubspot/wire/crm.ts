import { z } from 'zod';

import { HubSpotErrorDetailSchema } from './errors.ts';

/** CRM property values travel as strings; a requested property without a value is `null`. */
export const CrmPropertiesSchema = z.record(z.string(), z.string().nullable());
export type CrmProperties = z.infer<typeof CrmPropertiesSchema>;

/** Property values the app writes (always strings on the wire). */
export const CrmPropertyValuesSchema = z.record(z.string(), z.string());
export type CrmPropertyValues = z.infer<typeof CrmPropertyValuesSchema>;

export const NextPageSchema = z.object({ after: z.string(), link: z.string().optional() });
export const PagingSchema = z.object({ next: NextPageSchema.optional() });
export type Paging = z.infer<typeof PagingSchema>;

/**
 * `SimplePublicObject`: a deal, note or any CRM object. Required: what the app reads (`id`,
 * `properties`, and `createdAt`, which orders a deal's notes); HubSpot's other fields are
 * left out (zod drops unknown keys), so an answer without them still parses.
 */
export const CrmObjectSchema = z.object({
  id: z.string(),
  properties: CrmPropertiesSchema,
  createdAt: z.string(),
});
export type CrmObject = z.infer<typeof CrmObjectSchema>;

/** `CollectionResponseAssociatedId` as embedded by `?associations=notes` on a single read. */
export const EmbeddedAssociationsSchema = z.object({
  results: z.array(z.object({ id: z.string() })),
  paging: PagingSchema.optional(),
});
export type EmbeddedAssociations = z.infer<typeof EmbeddedAssociationsSchema>;

/** `SimplePublicObjectWithAssociations`: `GET /crm/objects/{v}/deals/{id}`. */
export const CrmObjectWithAssociationsSchema = CrmObjectSchema.extend({
  associations: z.record(z.string(), EmbeddedAssociationsSchema).optional(),
});
export type CrmObjectWithAssociations = z.infer<typeof CrmObjectWithAssociationsSchema>;

/** `PATCH /crm/objects/{v}/deals/{id}` body. */
export const CrmObjectPatchInputSchema = z.object({ properties: CrmPropertyValuesSchema });
export type CrmObjectPatchInput = z.infer<typeof CrmObjectPatchInputSchema>;

/** HubSpot's limit on inputs per batch call. */
export const BATCH_INPUT_LIMIT = 100;

/**
 * `BatchReadInputSimplePublicObjectId`: `POST .../batch/read`. The spec lists `properties`
 * and `propertiesWithHistory` as required, so they have no defaults (send `[]`).
 */
export const BatchReadInputSchema = z.object({
  inputs: z.array(z.object({ id: z.string().min(1) })),
  properties: z.array(z.string()),
  propertiesWithHistory: z.array(z.string()),
  idProperty: z.string().optional(),
});
export type BatchReadInput = z.input<typeof BatchReadInputSchema>;

/** `BatchInputSimplePublicObjectBatchInput`: `POST .../batch/update`. */
export const BatchUpdateInputSchema = z.object({
  inputs: z.array(
    z.object({
      id: z.string().min(1),
      properties: CrmPropertyValuesSchema,
      idProperty: z.string().optional(),
      objectWriteTraceId: z.string().optional(),
    }),
  ),
});
export type BatchUpdateInput = z.infer<typeof BatchUpdateInputSchema>;

/** `StandardError`: one entry of `errors[]` in a 207 batch response. */
export const BatchErrorSchema = z.object({
  category: z.string(),
  message: z.string(),
  context: z.record(z.string(), z.array(z.string())).optional(),
  errors: z.array(HubSpotErrorDetailSchema).optional(),
});
export type BatchError = z.infer<typeof BatchErrorSchema>;

export const BatchStatusSchema = z.enum(['CANCELED', 'COMPLETE', 'PENDING', 'PROCESSING']);

/**
 * `BatchResponseSimplePublicObject` (200) and `...WithErrors` (207) in one schema: only the
 * results and errors are read (`status`, `startedAt`, `completedAt` are not).
 */
export const BatchResponseSchema = z.object({
  results: z.array(CrmObjectSchema),
  errors: z.array(BatchErrorSchema).optional(),
});
export type BatchResponse = z.infer<typeof BatchResponseSchema>;

/**
 * `PublicObjectSearchRequest` (`POST .../{objectType}/search`); the spec lists `after`,
 * `filterGroups`, `limit`, `properties` and `sorts` as required, so all are sent. `limit` is
 * at most 200. The filter's `propertyName` may be the pseudo-property `associations.deal`.
 */
export const SearchRequestSchema = z.object({
  filterGroups: z.array(
    z.object({
      filters: z.array(
        z.object({
          propertyName: z.string(),
          operator: z.enum(['EQ', 'IN', 'HAS_PROPERTY']),
          value: z.string().optional(),
        }),
      ),
    }),
  ),
  properties: z.array(z.string()),
  sorts: z.array(z.string()),
  limit: z.number().int().min(1).max(200),
  after: z.string(),
});
export type SearchRequest = z.input<typeof SearchRequestSchema>;

/** `CollectionResponseWithTotal…ForwardPaging`: what the card reads of a search answer. */
export const SearchResponseSchema = z.object({
  results: z.array(CrmObjectSchema),
});

/** `AssociationSpecWithLabel`. */
export const AssociationTypeSchema = z.object({
  category: z.enum(['HUBSPOT_DEFINED', 'INTEGRATOR_DEFINED', 'USER_DEFINED', 'WORK']),
  typeId: z.number().int(),
  label: z.string().nullable().optional(),
});
export type AssociationType = z.infer<typeof AssociationTypeSchema>;

/**
 * `CollectionResponseMultiAssociatedObjectWithLabelForwardPaging`:
 * `GET /crm/objects/{v}/deals/{id}/associations/notes`. `toObjectId` is a string in the
 * date-versioned specs (a number in v4); both are accepted and read as a string.
 */
export const AssociationsPageSchema = z.object({
  results: z.array(
    z.object({
      toObjectId: z.union([z.string(), z.number()]).transform(String),
    }),
  ),
  paging: PagingSchema.optional(),
});
export type AssociationsPage = z.output<typeof AssociationsPageSchema>;

/** A note as returned by notes batch read; `hs_attachment_ids` is `"1;2;3"` or empty/null. */
export const NoteSchema = CrmObjectSchema;
export type Note = CrmObject;

/** Splits a note's `hs_attachment_ids` value into file ids. */
export function parseAttachmentIds(value: string | null | undefined): string[] {
  if (!value) return [];
  return value
    .split(';')
    .map((id) => id.trim())
    .filter((id) => id.length > 0);
}

/** `AssociationSpec` of a create's `associations[].types[]`. */
export const AssociationSpecSchema = z.object({
  associationCategory: z.enum(['HUBSPOT_DEFINED', 'INTEGRATOR_DEFINED', 'USER_DEFINED', 'WORK']),
  associationTypeId: z.number().int(),
});

/** `SimplePublicObjectInputForCreate`: `POST /crm/objects/{version}/notes` body. */
export const CrmObjectCreateInputSchema = z.object({
  properties: CrmPropertyValuesSchema,
  associations: z.array(
    z.object({ to: z.object({ id: z.string() }), types: z.array(AssociationSpecSchema) }),
  ),
});
export type CrmObjectCreateInput = z.infer<typeof CrmObjectCreateInputSchema>;

/** HubSpot-defined association type of a note to a deal (note → deal). */
export const NOTE_TO_DEAL_ASSOCIATION_TYPE_ID = 214;
