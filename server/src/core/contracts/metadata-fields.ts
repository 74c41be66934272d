import { z } from 'zod';

/**
 * The contract's metadata fields (what a CRM mapping fills in): a fixed set every contract
 * knows, plus an organization's custom fields (`custom.<key>`). Core knows only the fields
 * and their kinds; where the values come from is the adapter's business.
 */

export type MetadataFieldKind = 'text' | 'number' | 'currency' | 'date';

export interface MetadataFieldDefinition {
  readonly key: string;
  readonly label: string;
  readonly kind: MetadataFieldKind;
}

export const STANDARD_METADATA_FIELDS = [
  { key: 'counterpartyLegalName', label: 'Counterparty legal name', kind: 'text' },
  { key: 'contractValue', label: 'Contract value', kind: 'number' },
  { key: 'currency', label: 'Currency', kind: 'currency' },
  { key: 'termStart', label: 'Term start', kind: 'date' },
  { key: 'termEnd', label: 'Term end', kind: 'date' },
  { key: 'governingLaw', label: 'Governing law', kind: 'text' },
  { key: 'region', label: 'Region', kind: 'text' },
] as const satisfies readonly MetadataFieldDefinition[];

export type StandardMetadataFieldKey = (typeof STANDARD_METADATA_FIELDS)[number]['key'];

export const CUSTOM_FIELD_PREFIX = 'custom.';
/** `custom.` and a short lowercase key: `custom.po_number`. */
export const CustomFieldKeySchema = z
  .string()
  .regex(/^custom\.[a-z][a-z0-9_]{0,39}$/, 'custom.<lowercase letters, digits, underscores>');

export function standardField(key: string): MetadataFieldDefinition | undefined {
  return STANDARD_METADATA_FIELDS.find((f) => f.key === key);
}

/** A value as stored: text, a number, an ISO currency code or an ISO date (`YYYY-MM-DD`). */
export type MetadataValue = string | number;

/** Normalises a raw value for a field kind, or undefined when it does not fit the kind. */
export function normaliseMetadataValue(
  kind: MetadataFieldKind,
  raw: string,
): MetadataValue | undefined {
  const value = raw.trim();
  if (value === '') return undefined;
  switch (kind) {
    case 'text':
      return value.slice(0, 1000);
    case 'number': {
      const n = Number(value);
      return Number.isFinite(n) ? n : undefined;
    }
    case 'currency':
      return /^[A-Za-z]{3}$/.test(value) ? value.toUpperCase() : undefined;
    case 'date': {
      // Epoch milliseconds (HubSpot's date values) or an ISO date/datetime.
      const date = /^\d+$/.test(value) ? new Date(Number(value)) : new Date(value);
      return Number.isNaN(date.getTime()) ? undefined : date.toISOString().slice(0, 10);
    }
  }
}

/** The metadata a contract carries, by field key. */
export const ContractMetadataSchema = z.record(z.string(), z.union([z.string(), z.number()]));
export type ContractMetadata = z.infer<typeof ContractMetadataSchema>;
