import { z } from 'zod';

export const PropertyTypeSchema = z.enum([
  'bool',
  'date',
  'datetime',
  'enumeration',
  'number',
  'phone_number',
  'string',
]);
export const PropertyFieldTypeSchema = z.enum([
  'booleancheckbox',
  'calculation_equation',
  'checkbox',
  'date',
  'file',
  'html',
  'number',
  'phonenumber',
  'radio',
  'select',
  'text',
  'textarea',
]);

/** `Option` (read). */
export const PropertyOptionSchema = z.object({
  label: z.string().min(1),
  value: z.string().min(1),
  displayOrder: z.number().int().optional(),
  hidden: z.boolean(),
  description: z.string().optional(),
});
export type PropertyOption = z.infer<typeof PropertyOptionSchema>;

/** `OptionInput` (what create/update send): unlike `Option`, `displayOrder` is required. */
export const PropertyOptionInputSchema = PropertyOptionSchema.extend({
  displayOrder: z.number().int(),
});

/** `PropertyGroupCreate`: `POST /crm/properties/{v}/deals/groups`. */
export const PropertyGroupCreateSchema = z.object({
  name: z.string().min(1),
  label: z.string().min(1),
  displayOrder: z.number().int().optional(),
});
export type PropertyGroupCreate = z.infer<typeof PropertyGroupCreateSchema>;

/** `PropertyGroupUpdate`. */
export const PropertyGroupUpdateSchema = z.object({
  label: z.string().min(1).optional(),
  displayOrder: z.number().int().optional(),
});
export type PropertyGroupUpdate = z.infer<typeof PropertyGroupUpdateSchema>;

/** `PropertyGroup`. */
export const PropertyGroupSchema = z.object({
  name: z.string(),
  label: z.string(),
  displayOrder: z.number().int().optional(),
  archived: z.boolean(),
});
export type PropertyGroup = z.infer<typeof PropertyGroupSchema>;

export const PropertyGroupListSchema = z.object({ results: z.array(PropertyGroupSchema) });
export type PropertyGroupList = z.infer<typeof PropertyGroupListSchema>;

/** `PropertyCreate`: `POST /crm/properties/{v}/deals`. */
export const PropertyCreateSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'lowercase letters, digits and underscores'),
  label: z.string().min(1),
  type: PropertyTypeSchema,
  fieldType: PropertyFieldTypeSchema,
  groupName: z.string().min(1),
  description: z.string().optional(),
  options: z.array(PropertyOptionInputSchema).optional(),
  displayOrder: z.number().int().optional(),
  hasUniqueValue: z.boolean().optional(),
  hidden: z.boolean().optional(),
  formField: z.boolean().optional(),
  externalOptions: z.boolean().optional(),
  referencedObjectType: z.string().optional(),
  calculationFormula: z.string().optional(),
  dataSensitivity: z.enum(['highly_sensitive', 'non_sensitive', 'sensitive']).optional(),
});
export type PropertyCreate = z.infer<typeof PropertyCreateSchema>;

/** `PropertyUpdate`: `PATCH /crm/properties/{v}/deals/{name}` (options = full list). */
export const PropertyUpdateSchema = z.object({
  label: z.string().min(1).optional(),
  type: PropertyTypeSchema.optional(),
  fieldType: PropertyFieldTypeSchema.optional(),
  groupName: z.string().min(1).optional(),
  description: z.string().optional(),
  options: z.array(PropertyOptionInputSchema).optional(),
  displayOrder: z.number().int().optional(),
  hidden: z.boolean().optional(),
  formField: z.boolean().optional(),
});
export type PropertyUpdate = z.infer<typeof PropertyUpdateSchema>;

/** `Property`. */
export const PropertySchema = z.object({
  name: z.string(),
  label: z.string(),
  type: z.string(),
  fieldType: z.string(),
  groupName: z.string(),
  description: z.string(),
  options: z.array(PropertyOptionSchema),
  displayOrder: z.number().int().optional(),
  hasUniqueValue: z.boolean().optional(),
  hidden: z.boolean().optional(),
  formField: z.boolean().optional(),
  hubspotDefined: z.boolean().optional(),
  calculated: z.boolean().optional(),
  externalOptions: z.boolean().optional(),
  archived: z.boolean().optional(),
  createdAt: z.string().optional(),
  updatedAt: z.string().optional(),
  modificationMetadata: z
    .object({
      archivable: z.boolean(),
      readOnlyDefinition: z.boolean(),
      readOnlyValue: z.boolean(),
      readOnlyOptions: z.boolean().optional(),
    })
    .optional(),
});
export type Property = z.infer<typeof PropertySchema>;

export const PropertyListSchema = z.object({ results: z.array(PropertySchema) });
export type PropertyList = z.infer<typeof PropertyListSchema>;
