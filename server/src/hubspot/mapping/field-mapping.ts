import { z } from 'zod';

import {
  CustomFieldKeySchema,
  STANDARD_METADATA_FIELDS,
  normaliseMetadataValue,
  standardField,
  type ContractMetadata,
  type MetadataFieldKind,
} from '../../core/contracts/metadata-fields.ts';
import type { PropertyDefinition } from '../wire/index.ts';

/**
 * The admin's mapping of HubSpot properties (deal, primary company, contact) onto the
 * contract's metadata fields, and the pure logic around it: validation against the portal's
 * property definitions, and applying it to what an import read. No I/O: the import, the
 * settings page and the dry run share it.
 */

export const MAPPING_SOURCE_OBJECTS = ['deal', 'company', 'contact'] as const;
export type MappingSourceObject = (typeof MAPPING_SOURCE_OBJECTS)[number];
export const MAX_MAPPED_FIELDS = 100;

const STANDARD_KEYS = STANDARD_METADATA_FIELDS.map((f) => f.key) as [string, ...string[]];

export const MappedFieldSchema = z
  .object({
    field: z.union([z.enum(STANDARD_KEYS), CustomFieldKeySchema]),
    /** A custom field's label and kind (standard fields have their own). */
    label: z.string().trim().min(1).max(100).optional(),
    kind: z.enum(['text', 'number', 'currency', 'date']).optional(),
    source: z
      .object({
        object: z.enum(MAPPING_SOURCE_OBJECTS),
        property: z.string().min(1).max(100),
      })
      .strict(),
    required: z.boolean().default(false),
    /** An enumeration's option values → the contract's values (default: the option label). */
    options: z.record(z.string().max(200), z.string().max(200)).optional(),
  })
  .strict();
export type MappedFieldInput = z.input<typeof MappedFieldSchema>;

/** What the settings page sends (`fields` bounded loosely here; the limit has its own code). */
export const FieldMappingInputSchema = z
  .object({
    fields: z.array(MappedFieldSchema).max(1000),
    /** The contact mapped fields come from: the one with this association label, else the first. */
    contactLabel: z.string().trim().min(1).max(100).nullable().default(null),
  })
  .strict();
export type FieldMappingInput = z.input<typeof FieldMappingInputSchema>;

/** A mapped field as stored: completed at save with what the property was then. */
export interface MappedField {
  readonly field: string;
  readonly label: string;
  readonly kind: MetadataFieldKind;
  readonly source: { readonly object: MappingSourceObject; readonly property: string };
  readonly propertyLabel: string;
  readonly propertyType: string;
  readonly required: boolean;
  readonly options?: Readonly<Record<string, string>>;
}

export interface FieldMapping {
  readonly fields: readonly MappedField[];
  readonly contactLabel: string | null;
}

export const StoredFieldMappingSchema = z.object({
  fields: z.array(
    z.object({
      field: z.string(),
      label: z.string(),
      kind: z.enum(['text', 'number', 'currency', 'date']),
      source: z.object({ object: z.enum(MAPPING_SOURCE_OBJECTS), property: z.string() }),
      propertyLabel: z.string(),
      propertyType: z.string(),
      required: z.boolean(),
      options: z.record(z.string(), z.string()).optional(),
    }),
  ),
  contactLabel: z.string().nullable(),
});

/** Property definitions per source object; `null`: not readable (scope not granted). */
export type PropertyCatalog = Readonly<
  Record<MappingSourceObject, readonly PropertyDefinition[] | null>
>;

/** HubSpot property types each field kind takes. */
export const ACCEPTED_TYPES: Readonly<Record<MetadataFieldKind, readonly string[]>> = {
  text: ['string', 'enumeration', 'phone_number'],
  number: ['number'],
  currency: ['enumeration', 'string'],
  date: ['date', 'datetime'],
};

export const OBJECT_NOUN: Readonly<Record<MappingSourceObject, string>> = {
  deal: 'deal',
  company: 'primary company',
  contact: 'contact',
};

/** A refused mapping: a stable code and the offending field's path (`fields.2.source.property`). */
export interface MappingProblem {
  readonly code:
    | 'mapping_too_many_fields'
    | 'mapping_duplicate_field'
    | 'mapping_unknown_property'
    | 'mapping_objects_not_readable'
    | 'mapping_wrong_type'
    | 'mapping_unknown_option'
    | 'mapping_custom_field_incomplete';
  readonly path: string;
  readonly message: string;
}

/**
 * Checks a mapping against the portal's property definitions and completes it (labels,
 * types, default option values). Returns the first problem (the answer names one field), or
 * the mapping to store.
 */
export function validateMapping(
  input: z.output<typeof FieldMappingInputSchema>,
  catalog: PropertyCatalog,
): { ok: true; mapping: FieldMapping } | { ok: false; problem: MappingProblem } {
  const fail = (problem: MappingProblem) => ({ ok: false as const, problem });
  if (input.fields.length > MAX_MAPPED_FIELDS) {
    return fail({
      code: 'mapping_too_many_fields',
      path: 'fields',
      message: `At most ${MAX_MAPPED_FIELDS} fields can be mapped (got ${input.fields.length}).`,
    });
  }
  const seen = new Set<string>();
  const fields: MappedField[] = [];
  for (const [i, entry] of input.fields.entries()) {
    const at = `fields.${i}`;
    if (seen.has(entry.field)) {
      return fail({
        code: 'mapping_duplicate_field',
        path: `${at}.field`,
        message: `${entry.field} is mapped twice.`,
      });
    }
    seen.add(entry.field);
    const standard = standardField(entry.field);
    const label = standard?.label ?? entry.label;
    const kind = standard?.kind ?? entry.kind;
    if (label === undefined || kind === undefined) {
      return fail({
        code: 'mapping_custom_field_incomplete',
        path: at,
        message: `The custom field ${entry.field} needs a label and a kind.`,
      });
    }
    const definitions = catalog[entry.source.object];
    if (definitions === null) {
      return fail({
        code: 'mapping_objects_not_readable',
        path: `${at}.source.object`,
        message: `${label}: the app may not read ${OBJECT_NOUN[entry.source.object]} properties in this portal (reconnect HubSpot to grant the scope).`,
      });
    }
    const definition = definitions.find(
      (d) => d.name === entry.source.property && d.archived !== true,
    );
    if (!definition) {
      return fail({
        code: 'mapping_unknown_property',
        path: `${at}.source.property`,
        message: `${label}: HubSpot has no ${OBJECT_NOUN[entry.source.object]} property "${entry.source.property}".`,
      });
    }
    if (!ACCEPTED_TYPES[kind].includes(definition.type)) {
      return fail({
        code: 'mapping_wrong_type',
        path: `${at}.source.property`,
        message: `${label} takes a ${ACCEPTED_TYPES[kind].join(' or ')} property; "${definition.label}" is a ${definition.type} property.`,
      });
    }
    let options: Record<string, string> | undefined;
    if (definition.type === 'enumeration') {
      const known = new Set(definition.options.map((o) => o.value));
      for (const value of Object.keys(entry.options ?? {})) {
        if (!known.has(value)) {
          return fail({
            code: 'mapping_unknown_option',
            path: `${at}.options.${value}`,
            message: `${label}: "${definition.label}" has no option "${value}".`,
          });
        }
      }
      options = Object.fromEntries(
        definition.options.map((o) => [o.value, entry.options?.[o.value] ?? o.label]),
      );
    }
    fields.push({
      field: entry.field,
      label,
      kind,
      source: { object: entry.source.object, property: definition.name },
      propertyLabel: definition.label,
      propertyType: definition.type,
      required: entry.required,
      ...(options ? { options } : {}),
    });
  }
  return { ok: true, mapping: { fields, contactLabel: input.contactLabel } };
}

/** Mapped fields whose property no longer exists (or can no longer be read). */
export function brokenMappedFields(
  mapping: FieldMapping,
  catalog: PropertyCatalog,
): Array<{
  field: string;
  label: string;
  object: MappingSourceObject;
  property: string;
  reason: string;
}> {
  return mapping.fields.flatMap((f) => {
    const definitions = catalog[f.source.object];
    const base = {
      field: f.field,
      label: f.label,
      object: f.source.object,
      property: f.source.property,
    };
    if (definitions === null) {
      return [
        { ...base, reason: `${OBJECT_NOUN[f.source.object]} properties can no longer be read` },
      ];
    }
    const found = definitions.find((d) => d.name === f.source.property && d.archived !== true);
    if (!found) return [{ ...base, reason: 'the property was deleted in HubSpot' }];
    if (!ACCEPTED_TYPES[f.kind].includes(found.type)) {
      return [{ ...base, reason: `the property is now a ${found.type} property` }];
    }
    return [];
  });
}

/** Values as read from HubSpot; a key absent = HubSpot does not know the property. */
export type SourceValues = Readonly<Record<string, string | null>>;

export interface MappingSources {
  readonly deal: SourceValues;
  /** The primary company's values; null when there is none (`companyProblem` says why). */
  readonly company: SourceValues | null;
  readonly companyProblem?: string | null;
  readonly contact: SourceValues | null;
  /** Source objects the portal's scopes did not let the import read. */
  readonly unreadable?: readonly MappingSourceObject[];
}

export interface MissingField {
  readonly field: string;
  readonly label: string;
  readonly object: MappingSourceObject;
  readonly property: string;
  readonly required: boolean;
  readonly reason:
    'empty' | 'deleted' | 'no_company' | 'no_contact' | 'not_readable' | 'invalid_value';
  readonly message: string;
}

export interface MappingResult {
  readonly values: ContractMetadata;
  readonly missing: readonly MissingField[];
}

/** The HubSpot properties a mapping reads, per object (to ask for them in the import's reads). */
export function mappedProperties(mapping: FieldMapping): Record<MappingSourceObject, string[]> {
  const out: Record<MappingSourceObject, string[]> = { deal: [], company: [], contact: [] };
  for (const f of mapping.fields) {
    if (!out[f.source.object].includes(f.source.property))
      out[f.source.object].push(f.source.property);
  }
  return out;
}

/** Applies the mapping: the metadata values, and each mapped field that has none, with why. */
export function applyMapping(mapping: FieldMapping, sources: MappingSources): MappingResult {
  const values: Record<string, string | number> = {};
  const missing: MissingField[] = [];
  for (const f of mapping.fields) {
    const where = `the ${OBJECT_NOUN[f.source.object]} property "${f.propertyLabel}" (${f.source.property})`;
    const miss = (reason: MissingField['reason'], why: string) => {
      missing.push({
        field: f.field,
        label: f.label,
        object: f.source.object,
        property: f.source.property,
        required: f.required,
        reason,
        message: `${f.label}${f.required ? ' is required but' : ''} has no value: ${why}.`,
      });
    };
    if (sources.unreadable?.includes(f.source.object)) {
      miss('not_readable', `${where} could not be read (the portal has not granted the scope)`);
      continue;
    }
    const record =
      f.source.object === 'deal'
        ? sources.deal
        : f.source.object === 'company'
          ? sources.company
          : sources.contact;
    if (record === null) {
      if (f.source.object === 'company') {
        miss('no_company', sources.companyProblem ?? `the deal has no company for ${where}`);
      } else {
        miss('no_contact', `the deal has no contact for ${where}`);
      }
      continue;
    }
    if (!(f.source.property in record)) {
      miss('deleted', `${where} no longer exists in HubSpot (deleted after it was mapped)`);
      continue;
    }
    const raw = record[f.source.property];
    if (raw === null || raw === undefined || raw.trim() === '') {
      miss('empty', `${where} is empty`);
      continue;
    }
    const mapped = f.options?.[raw] ?? raw;
    const value = normaliseMetadataValue(f.kind, mapped);
    if (value === undefined) {
      miss('invalid_value', `${where} holds "${raw.slice(0, 100)}", which is not a ${f.kind}`);
      continue;
    }
    values[f.field] = value;
  }
  return { values, missing };
}

/** The contact mapped fields come from: the first with the mapping's label, else the first. */
export function mappingContact<T extends { labels: readonly string[] }>(
  contacts: readonly T[],
  contactLabel: string | null,
): T | undefined {
  if (contactLabel !== null) {
    const labelled = contacts.find((c) =>
      c.labels.some((l) => l.toLowerCase() === contactLabel.toLowerCase()),
    );
    if (labelled) return labelled;
  }
  return contacts[0];
}

/** The send's refusal when required fields have no value: names each HubSpot property. */
export function requiredFieldsMessage(missing: readonly MissingField[]): string | null {
  const required = missing.filter((m) => m.required);
  if (required.length === 0) return null;
  return required.map((m) => m.message).join(' ');
}
