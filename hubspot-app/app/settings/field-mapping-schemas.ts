import { z } from 'zod';

/**
 * The wire contract of the field-mapping section of the settings page:
 * `GET /settings/field-mapping` (the mapping in force, the contract fields it can fill, the
 * portal's property definitions for the pickers, broken mappings) and
 * `PUT /settings/field-mapping` (a new version). Only imports `zod`.
 */

export const FIELD_MAPPING_PATH = '/api/v1/integrations/hubspot/settings/field-mapping';

export const SourceObjectSchema = z.enum(['deal', 'company', 'contact']);
export type SourceObject = z.infer<typeof SourceObjectSchema>;
export const FieldKindSchema = z.enum(['text', 'number', 'currency', 'date']);
export type FieldKind = z.infer<typeof FieldKindSchema>;

/** One mapped field as the page sends it (the backend completes and checks it). */
export const MappedFieldRequestSchema = z.object({
  field: z.string(),
  label: z.string().optional(),
  kind: FieldKindSchema.optional(),
  source: z.object({ object: SourceObjectSchema, property: z.string() }),
  required: z.boolean(),
  options: z.record(z.string(), z.string()).optional(),
});
export type MappedFieldRequest = z.infer<typeof MappedFieldRequestSchema>;

export const FieldMappingRequestSchema = z.object({
  fields: z.array(MappedFieldRequestSchema),
  contactLabel: z.string().nullable(),
});
export type FieldMappingRequest = z.infer<typeof FieldMappingRequestSchema>;

export const PropertyChoiceSchema = z.object({
  name: z.string(),
  label: z.string(),
  type: z.string(),
  options: z.array(z.object({ value: z.string(), label: z.string() })),
});
export type PropertyChoice = z.infer<typeof PropertyChoiceSchema>;

export const FieldMappingDataSchema = z.object({
  /** The version in force; null before the first save. */
  version: z.number().int().nullable(),
  fields: z.array(
    MappedFieldRequestSchema.extend({
      label: z.string(),
      kind: FieldKindSchema,
      propertyLabel: z.string(),
    }),
  ),
  contactLabel: z.string().nullable(),
  /** The contract fields a mapping can fill (custom fields come on top). */
  targets: z.array(z.object({ key: z.string(), label: z.string(), kind: FieldKindSchema })),
  /** Property types each field kind takes (a date field takes date/datetime properties). */
  acceptedTypes: z.record(FieldKindSchema, z.array(z.string())),
  /** Property definitions per object; null: the app may not read them in this portal. */
  properties: z.object({
    deal: z.array(PropertyChoiceSchema).nullable(),
    company: z.array(PropertyChoiceSchema).nullable(),
    contact: z.array(PropertyChoiceSchema).nullable(),
  }),
  /** Mapped fields whose property was deleted in HubSpot (or changed type) since. */
  broken: z.array(
    z.object({
      field: z.string(),
      label: z.string(),
      object: SourceObjectSchema,
      property: z.string(),
      reason: z.string(),
    }),
  ),
  maxFields: z.number().int(),
});
export type FieldMappingData = z.infer<typeof FieldMappingDataSchema>;

export const PRIMARY_COMPANY_PATH = '/api/v1/integrations/hubspot/settings/primary-company';

/** `GET /settings/primary-company?dealId=` and the `PUT` answer: a deal's companies. */
export const PrimaryCompanyDataSchema = z.object({
  dealId: z.string(),
  companies: z.array(
    z.object({
      id: z.string(),
      name: z.string().nullable(),
      domain: z.string().nullable(),
      primaryInHubSpot: z.boolean(),
    }),
  ),
  /** The counterparty a send takes now, and why. */
  primaryCompany: z.object({ id: z.string(), source: z.string() }).nullable(),
  problem: z.string().nullable(),
  /** False when the portal has not granted the company read scope. */
  readable: z.boolean(),
});
export type PrimaryCompanyData = z.infer<typeof PrimaryCompanyDataSchema>;
