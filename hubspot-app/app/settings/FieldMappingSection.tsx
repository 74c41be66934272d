import { useEffect, useState } from 'react';
import {
  Alert,
  Button,
  Checkbox,
  Flex,
  Heading,
  Input,
  LoadingButton,
  LoadingSpinner,
  Select,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
  Text,
} from '@hubspot/ui-extensions';

import { SETTINGS_TIMEOUT_MS } from './api-schemas.ts';
import { callBackend } from './backend.ts';
import { PrimaryCompanyChoice } from './PrimaryCompanyChoice.tsx';
import {
  FIELD_MAPPING_PATH,
  FieldMappingDataSchema,
  type FieldKind,
  type FieldMappingData,
  type MappedFieldRequest,
  type PropertyChoice,
  type SourceObject,
} from './field-mapping-schemas.ts';

/**
 * The settings page's field mapping: which HubSpot property (of the deal, its primary
 * company or a contact) fills each contract field. Pickers list the portal's properties by
 * label, only those whose type the field takes; the backend checks the mapping again and
 * names the field it refuses.
 */

const OBJECT_LABELS: Record<SourceObject, string> = {
  deal: 'Deal',
  company: 'Primary company',
  contact: 'Contact',
};

const KIND_LABELS: Record<FieldKind, string> = {
  text: 'Text',
  number: 'Number',
  currency: 'Currency code',
  date: 'Date',
};

interface Row {
  readonly field: string;
  readonly label: string;
  readonly kind: FieldKind;
  readonly custom: boolean;
  readonly object: SourceObject;
  /** '' = not mapped. */
  readonly property: string;
  readonly required: boolean;
  readonly options: Readonly<Record<string, string>>;
}

function initialRows(data: FieldMappingData): Row[] {
  const mapped = new Map(data.fields.map((f) => [f.field, f]));
  const standard: Row[] = data.targets.map((t) => {
    const m = mapped.get(t.key);
    return {
      field: t.key,
      label: t.label,
      kind: t.kind,
      custom: false,
      object: m?.source.object ?? 'deal',
      property: m?.source.property ?? '',
      required: m?.required ?? false,
      options: m?.options ?? {},
    };
  });
  const custom: Row[] = data.fields
    .filter((f) => !data.targets.some((t) => t.key === f.field))
    .map((f) => ({
      field: f.field,
      label: f.label,
      kind: f.kind,
      custom: true,
      object: f.source.object,
      property: f.source.property,
      required: f.required,
      options: f.options ?? {},
    }));
  return [...standard, ...custom];
}

/** `Purchase order` → `custom.purchase_order`. */
export function customKey(label: string): string {
  const slug = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 40);
  return `custom.${/^[a-z]/.test(slug) ? slug : `f_${slug}`}`;
}

export function mappingRequest(
  rows: readonly Row[],
  contactLabel: string,
): { fields: MappedFieldRequest[]; contactLabel: string | null } {
  return {
    fields: rows
      .filter((r) => r.property !== '')
      .map((r) => ({
        field: r.field,
        ...(r.custom ? { label: r.label, kind: r.kind } : {}),
        source: { object: r.object, property: r.property },
        required: r.required,
        ...(Object.keys(r.options).length > 0 ? { options: { ...r.options } } : {}),
      })),
    contactLabel: contactLabel.trim() === '' ? null : contactLabel.trim(),
  };
}

type Load =
  | { readonly kind: 'loading' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'data'; readonly data: FieldMappingData };

export function FieldMappingSection() {
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  // Kept here: a save remounts the editor (new version) and the notice must survive it.
  const [savedVersion, setSavedVersion] = useState<number | null>(null);
  useEffect(() => {
    let current = true;
    void callBackend(
      { path: FIELD_MAPPING_PATH, timeoutMs: SETTINGS_TIMEOUT_MS },
      FieldMappingDataSchema,
    ).then((result) => {
      if (!current) return;
      setLoad(
        result.ok
          ? { kind: 'data', data: result.data }
          : { kind: 'error', message: result.message },
      );
    });
    return () => {
      current = false;
    };
  }, []);

  if (load.kind === 'loading') {
    return <LoadingSpinner label="Loading the field mapping…" testId="mapping-loading" />;
  }
  if (load.kind === 'error') {
    return (
      <Alert title="The field mapping could not be loaded" variant="danger" testId="mapping-error">
        {load.message}
      </Alert>
    );
  }
  return (
    <MappingEditor
      key={load.data.version ?? 0}
      data={load.data}
      savedVersion={savedVersion}
      onSaved={(data) => {
        setSavedVersion(data.version);
        setLoad({ kind: 'data', data });
      }}
    />
  );
}

function MappingEditor({
  data,
  savedVersion,
  onSaved,
}: {
  data: FieldMappingData;
  savedVersion: number | null;
  onSaved: (data: FieldMappingData) => void;
}) {
  const [rows, setRows] = useState<Row[]>(() => initialRows(data));
  const [contactLabel, setContactLabel] = useState(data.contactLabel ?? '');
  const [newLabel, setNewLabel] = useState('');
  const [newKind, setNewKind] = useState<FieldKind>('text');
  const [saving, setSaving] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [edited, setEdited] = useState(false);

  const update = (field: string, change: Partial<Row>) => {
    setEdited(true);
    setRows((all) => all.map((r) => (r.field === field ? { ...r, ...change } : r)));
  };

  const candidates = (row: Row): PropertyChoice[] =>
    (data.properties[row.object] ?? []).filter((p) =>
      data.acceptedTypes[row.kind].includes(p.type),
    );

  const save = () => {
    setSaving(true);
    setProblem(null);
    void callBackend(
      {
        path: FIELD_MAPPING_PATH,
        method: 'PUT',
        timeoutMs: SETTINGS_TIMEOUT_MS,
        body: mappingRequest(rows, contactLabel),
      },
      FieldMappingDataSchema,
    )
      .then((result) => {
        if (result.ok) {
          onSaved(result.data);
        } else {
          setProblem(result.message);
        }
      })
      .finally(() => {
        setSaving(false);
      });
  };

  const mappedCount = rows.filter((r) => r.property !== '').length;

  return (
    <Flex direction="column" gap="sm">
      <Heading>Field mapping</Heading>
      <Text>
        Choose which HubSpot property fills each contract field when a deal is sent to legal review.
        A required field without a value stops the send and names the property.
        {data.version !== null ? ` In force: version ${String(data.version)}.` : ''}
      </Text>
      {data.broken.length > 0 ? (
        <Alert title="Broken mappings" variant="danger" testId="mapping-broken">
          {data.broken
            .map(
              (b) => `${b.label}: ${OBJECT_LABELS[b.object]} property ${b.property} — ${b.reason}`,
            )
            .join('; ')}
        </Alert>
      ) : null}
      {(['company', 'contact'] as const)
        .filter((o) => data.properties[o] === null)
        .map((o) => (
          <Alert
            key={o}
            title={`${OBJECT_LABELS[o]} properties are not available`}
            variant="warning"
            testId={`mapping-unreadable-${o}`}
          >
            Reconnect HubSpot to grant LexiContract read access to them.
          </Alert>
        ))}
      {problem !== null ? (
        <Alert title="Not saved" variant="danger" testId="mapping-problem">
          {problem}
        </Alert>
      ) : null}
      {savedVersion !== null && !edited ? (
        <Alert title="Saved" variant="success" testId="mapping-saved">
          The field mapping was saved as version {String(savedVersion)}.
        </Alert>
      ) : null}
      <Table testId="mapping-table">
        <TableHead>
          <TableRow>
            <TableHeader>Contract field</TableHeader>
            <TableHeader>From</TableHeader>
            <TableHeader>HubSpot property</TableHeader>
            <TableHeader>Required</TableHeader>
          </TableRow>
        </TableHead>
        <TableBody>
          {rows.map((row) => {
            const choices = candidates(row);
            const chosen = choices.find((p) => p.name === row.property);
            return (
              <TableRow key={row.field}>
                <TableCell>
                  {row.label} ({KIND_LABELS[row.kind]})
                </TableCell>
                <TableCell>
                  <Select
                    label=""
                    name={`${row.field}-object`}
                    testId={`object-${row.field}`}
                    value={row.object}
                    options={(['deal', 'company', 'contact'] as const).map((o) => ({
                      label: OBJECT_LABELS[o],
                      value: o,
                    }))}
                    onChange={(value) => {
                      const object: SourceObject =
                        value === 'company' || value === 'contact' ? value : 'deal';
                      update(row.field, { object, property: '', options: {} });
                    }}
                  />
                </TableCell>
                <TableCell>
                  <Select
                    label=""
                    name={`${row.field}-property`}
                    testId={`property-${row.field}`}
                    value={row.property}
                    options={[
                      { label: 'Not mapped', value: '' },
                      ...choices.map((p) => ({ label: `${p.label} (${p.name})`, value: p.name })),
                      // A mapped property that is gone still shows, so the broken row is visible.
                      ...(row.property !== '' && !chosen
                        ? [{ label: `${row.property} (missing)`, value: row.property }]
                        : []),
                    ]}
                    onChange={(value) => {
                      update(row.field, {
                        property: typeof value === 'string' ? value : '',
                        options: {},
                      });
                    }}
                  />
                  {chosen && chosen.type === 'enumeration' && chosen.options.length > 0 ? (
                    <Flex direction="column" gap="xs">
                      {chosen.options.map((o) => (
                        <Input
                          key={o.value}
                          label={`“${o.label}” becomes`}
                          name={`${row.field}-option-${o.value}`}
                          testId={`option-${row.field}-${o.value}`}
                          value={row.options[o.value] ?? o.label}
                          onChange={(value) => {
                            update(row.field, { options: { ...row.options, [o.value]: value } });
                          }}
                        />
                      ))}
                    </Flex>
                  ) : null}
                </TableCell>
                <TableCell>
                  <Checkbox
                    name={`${row.field}-required`}
                    testId={`required-${row.field}`}
                    checked={row.required}
                    onChange={(checked) => {
                      update(row.field, { required: checked });
                    }}
                  >
                    Required
                  </Checkbox>
                </TableCell>
              </TableRow>
            );
          })}
        </TableBody>
      </Table>
      <Flex direction="row" gap="sm" align="end">
        <Input
          label="Custom field"
          name="customFieldLabel"
          testId="custom-label"
          value={newLabel}
          onChange={(value) => {
            setNewLabel(value);
          }}
        />
        <Select
          label="Kind"
          name="customFieldKind"
          testId="custom-kind"
          value={newKind}
          options={(['text', 'number', 'currency', 'date'] as const).map((k) => ({
            label: KIND_LABELS[k],
            value: k,
          }))}
          onChange={(value) => {
            setNewKind(
              value === 'number' || value === 'currency' || value === 'date' ? value : 'text',
            );
          }}
        />
        <Button
          testId="add-custom"
          disabled={newLabel.trim() === '' || rows.some((r) => r.field === customKey(newLabel))}
          onClick={() => {
            setRows((all) => [
              ...all,
              {
                field: customKey(newLabel),
                label: newLabel.trim(),
                kind: newKind,
                custom: true,
                object: 'deal',
                property: '',
                required: false,
                options: {},
              },
            ]);
            setNewLabel('');
          }}
        >
          Add custom field
        </Button>
      </Flex>
      <Input
        label="Contact association label"
        name="contactLabel"
        testId="contact-label"
        description="Contact fields come from the deal's contact with this label (e.g. Signer), else its first contact."
        value={contactLabel}
        onChange={(value) => {
          setContactLabel(value);
        }}
      />
      <LoadingButton
        variant="secondary"
        loading={saving}
        disabled={saving || mappedCount > data.maxFields}
        testId="save-mapping"
        onClick={save}
      >
        Save field mapping
      </LoadingButton>
      <PrimaryCompanyChoice />
    </Flex>
  );
}
