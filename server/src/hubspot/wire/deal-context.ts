import { z } from 'zod';

import { CrmObjectSchema, PagingSchema } from './crm.ts';

/**
 * What the import reads about a deal's companies, contacts and line items: the associations
 * batch read (`BatchResponsePublicAssociationMultiWithLabel`) and the portal's property
 * definitions for the mapping pickers. Only the fields used are required.
 */

/** `AssociationSpecWithLabel`: `label` is null for HubSpot's unlabeled type. */
export const LabelledAssociationTypeSchema = z.object({
  category: z.string(),
  typeId: z.number().int(),
  label: z.string().nullable().optional(),
});
export type LabelledAssociationType = z.infer<typeof LabelledAssociationTypeSchema>;

/** `POST /crm/associations/{v}/{from}/{to}/batch/read` (200, or 207 with `errors`). */
export const AssociationsBatchResponseSchema = z.object({
  results: z.array(
    z.object({
      from: z.object({ id: z.union([z.string(), z.number()]).transform(String) }),
      to: z.array(
        z.object({
          toObjectId: z.union([z.string(), z.number()]).transform(String),
          associationTypes: z.array(LabelledAssociationTypeSchema).default([]),
        }),
      ),
      paging: PagingSchema.optional(),
    }),
  ),
});
export type AssociationsBatchResponse = z.output<typeof AssociationsBatchResponseSchema>;

/** `BatchInputPublicFetchAssociationsBatchRequest`. */
export interface AssociationsBatchInput {
  inputs: Array<{ id: string; after?: string }>;
}

/** A company, contact or line item as read: only its id and the asked-for properties. */
export const ContextRecordSchema = CrmObjectSchema.pick({ id: true, properties: true });
export type ContextRecord = z.infer<typeof ContextRecordSchema>;

/** Batch read of companies / contacts / line items: the results only. */
export const CrmObjectsBatchSchema = z.object({ results: z.array(ContextRecordSchema) });

/**
 * A property definition as the mapping pickers use it (`Property`, read leniently: a
 * definition HubSpot adds fields to, or leaves `description` out of, still parses).
 */
export const PropertyDefinitionSchema = z.object({
  name: z.string(),
  label: z.string(),
  type: z.string(),
  fieldType: z.string().optional(),
  options: z
    .array(z.object({ label: z.string(), value: z.string(), hidden: z.boolean().optional() }))
    .default([]),
  hidden: z.boolean().optional(),
  archived: z.boolean().optional(),
});
export type PropertyDefinition = z.output<typeof PropertyDefinitionSchema>;
export const PropertyDefinitionListSchema = z.object({
  results: z.array(PropertyDefinitionSchema),
});

/**
 * HubSpot-defined deal → company type of the primary company (associations guide): the
 * label text changed over time ("Primary", "Deal with Primary Company"), the id did not.
 */
export const DEAL_TO_PRIMARY_COMPANY_TYPE_ID = 5;
