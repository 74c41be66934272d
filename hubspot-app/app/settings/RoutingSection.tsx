import { useState } from 'react';
import {
  Alert,
  Button,
  ButtonRow,
  DescriptionList,
  DescriptionListItem,
  Divider,
  Flex,
  Heading,
  Input,
  LoadingButton,
  MultiSelect,
  NumberInput,
  Select,
  StatusTag,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
  Tag,
  Text,
  Tile,
  Toggle,
} from '@hubspot/ui-extensions';

import { SETTINGS_TIMEOUT_MS } from './api-schemas.ts';
import { callBackend } from './backend.ts';
import {
  DryRunResultSchema,
  RoutingRulesDataSchema,
  SETTINGS_DRY_RUN_PATH,
  SETTINGS_RULES_PATH,
  type DryRunResult,
  type ReviewPriorityValue,
  type RoutingOutcome,
  type RoutingRuleInput,
  type RoutingRulesData,
  type RuleChoices,
  type RuleCondition,
} from './routing-schemas.ts';

/**
 * The settings page's routing rules (ordered, first match wins, no match means the default)
 * and dry run (what sending one deal would do, nothing written). Opened on demand: the page
 * loads fast, and the rules' HubSpot reads (pipelines, properties) happen only when an admin
 * wants them. No primary buttons: the page's one primary action is the options' Save.
 */

const PRIORITIES: { label: string; value: ReviewPriorityValue }[] = [
  { label: 'Low', value: 'low' },
  { label: 'Normal', value: 'normal' },
  { label: 'High', value: 'high' },
  { label: 'Urgent', value: 'urgent' },
];

function isPriority(value: unknown): value is ReviewPriorityValue {
  return PRIORITIES.some((p) => p.value === value);
}

type StageMode = 'any' | 'is' | 'from';

/** The rule being edited, as the form holds it. */
interface Draft {
  readonly id?: string;
  readonly name: string;
  readonly pipelineId: string;
  readonly stageMode: StageMode;
  readonly stageId: string;
  readonly minAmount: number | undefined;
  readonly maxAmount: number | undefined;
  readonly dealTypes: string[];
  readonly field: string;
  readonly fieldValues: string;
  readonly priority: ReviewPriorityValue;
  readonly queue: string;
  readonly sendAutomatically: boolean;
}

const EMPTY_DRAFT: Draft = {
  name: '',
  pipelineId: '',
  stageMode: 'any',
  stageId: '',
  minAmount: undefined,
  maxAmount: undefined,
  dealTypes: [],
  field: '',
  fieldValues: '',
  priority: 'normal',
  queue: '',
  sendAutomatically: false,
};

/** The conditions a draft stands for (empty fields add none). */
export function draftConditions(draft: Draft): RuleCondition[] {
  const conditions: RuleCondition[] = [];
  if (draft.pipelineId !== '')
    conditions.push({ kind: 'pipeline', pipelineIds: [draft.pipelineId] });
  if (draft.stageMode === 'is' && draft.stageId !== '') {
    conditions.push({ kind: 'stage', stageIds: [draft.stageId] });
  }
  if (draft.stageMode === 'from' && draft.stageId !== '') {
    conditions.push({ kind: 'stage_from', stageId: draft.stageId });
  }
  if (draft.minAmount !== undefined || draft.maxAmount !== undefined) {
    conditions.push({
      kind: 'amount',
      ...(draft.minAmount !== undefined ? { min: draft.minAmount } : {}),
      ...(draft.maxAmount !== undefined ? { max: draft.maxAmount } : {}),
    });
  }
  if (draft.dealTypes.length > 0) conditions.push({ kind: 'deal_type', values: draft.dealTypes });
  const values = draft.fieldValues
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
  if (draft.field !== '' && values.length > 0) {
    conditions.push({
      kind: 'mapped_field',
      field: draft.field,
      op: values.length === 1 ? 'equals' : 'in',
      values,
    });
  }
  return conditions;
}

function draftOf(rule: RoutingRuleInput): Draft {
  const draft: { -readonly [K in keyof Draft]: Draft[K] } = {
    ...EMPTY_DRAFT,
    name: rule.name,
    priority: rule.priority,
    queue: rule.queue,
    sendAutomatically: rule.sendAutomatically ?? false,
    ...(rule.id !== undefined ? { id: rule.id } : {}),
  };
  for (const c of rule.conditions) {
    if (c.kind === 'pipeline') draft.pipelineId = c.pipelineIds[0] ?? '';
    if (c.kind === 'stage') {
      draft.stageMode = 'is';
      draft.stageId = c.stageIds[0] ?? '';
    }
    if (c.kind === 'stage_from') {
      draft.stageMode = 'from';
      draft.stageId = c.stageId;
    }
    if (c.kind === 'amount') {
      draft.minAmount = c.min;
      draft.maxAmount = c.max;
    }
    if (c.kind === 'deal_type') draft.dealTypes = [...c.values];
    if (c.kind === 'mapped_field') {
      draft.field = c.field;
      draft.fieldValues = c.values.join(', ');
    }
  }
  return draft;
}

/** A condition in words, with the portal's labels where known. */
export function describeCondition(condition: RuleCondition, choices: RuleChoices | null): string {
  const stages = new Map(
    (choices?.pipelines ?? []).flatMap((p) => p.stages.map((s) => [s.value, s.label] as const)),
  );
  const pipelines = new Map((choices?.pipelines ?? []).map((p) => [p.id, p.label] as const));
  const fmt = (n: number) => n.toLocaleString('en-US');
  switch (condition.kind) {
    case 'pipeline':
      return `pipeline ${condition.pipelineIds.map((id) => pipelines.get(id) ?? id).join(' or ')}`;
    case 'stage':
      return `stage ${condition.stageIds.map((id) => stages.get(id) ?? id).join(' or ')}`;
    case 'stage_from':
      return `stage ${stages.get(condition.stageId) ?? condition.stageId} or later`;
    case 'amount':
      return [
        condition.min !== undefined ? `amount ≥ ${fmt(condition.min)}` : undefined,
        condition.max !== undefined ? `amount < ${fmt(condition.max)}` : undefined,
      ]
        .filter((s) => s !== undefined)
        .join(' and ');
    case 'deal_type':
      return `deal type ${condition.values.join(' or ')}`;
    case 'mapped_field':
      return `${condition.field} is ${condition.values.join(' or ')}`;
  }
}

type Load =
  | { readonly kind: 'closed' }
  | { readonly kind: 'loading' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'data'; readonly data: RoutingRulesData };

export function RoutingSection() {
  const [load, setLoad] = useState<Load>({ kind: 'closed' });
  const open = () => {
    setLoad({ kind: 'loading' });
    void callBackend(
      { path: SETTINGS_RULES_PATH, timeoutMs: SETTINGS_TIMEOUT_MS },
      RoutingRulesDataSchema,
    ).then((result) => {
      setLoad(
        result.ok
          ? { kind: 'data', data: result.data }
          : { kind: 'error', message: result.message },
      );
    });
  };
  return (
    <Flex direction="column" gap="sm">
      <Divider />
      <Heading>Routing rules</Heading>
      <Text>
        Rules decide the priority and review queue of every deal sent to legal review, and can send
        a deal automatically when it enters a stage. The first rule that matches wins.
      </Text>
      {load.kind === 'closed' ? (
        <Button testId="routing-open" onClick={open}>
          Show routing rules and dry run
        </Button>
      ) : null}
      {load.kind === 'loading' ? (
        <LoadingButton loading disabled testId="routing-loading">
          Loading routing rules…
        </LoadingButton>
      ) : null}
      {load.kind === 'error' ? (
        <Alert
          title="The routing rules could not be loaded"
          variant="danger"
          testId="routing-error"
        >
          {load.message}
        </Alert>
      ) : null}
      {load.kind === 'error' ? (
        <Button testId="routing-retry" onClick={open}>
          Try again
        </Button>
      ) : null}
      {load.kind === 'data' ? (
        <>
          <RulesEditor
            // A new version remounts the editor with the saved rules and their ids.
            key={load.data.version}
            initial={load.data}
            onSaved={(data) => {
              setLoad({ kind: 'data', data });
            }}
          />
          <DryRunPanel />
        </>
      ) : null}
    </Flex>
  );
}

function RulesEditor({
  initial,
  onSaved,
}: {
  initial: RoutingRulesData;
  onSaved: (data: RoutingRulesData) => void;
}) {
  const [rules, setRules] = useState<RoutingRuleInput[]>(initial.rules);
  const [fallback, setFallback] = useState<RoutingOutcome>(initial.default);
  const [editing, setEditing] = useState<{ index: number; draft: Draft } | null>(null);
  const [saving, setSaving] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const choices = initial.choices;

  const move = (index: number, by: number) => {
    const next = [...rules];
    const rule = next.at(index);
    if (rule === undefined) return;
    next.splice(index, 1);
    next.splice(index + by, 0, rule);
    setRules(next);
  };

  const save = () => {
    setSaving(true);
    setProblem(null);
    void callBackend(
      {
        path: SETTINGS_RULES_PATH,
        method: 'PUT',
        timeoutMs: SETTINGS_TIMEOUT_MS,
        body: { rules, default: fallback, baseVersion: initial.version },
      },
      RoutingRulesDataSchema,
    ).then((result) => {
      setSaving(false);
      if (result.ok) onSaved(result.data);
      else setProblem(result.message);
    });
  };

  return (
    <Flex direction="column" gap="sm">
      {choices === null ? (
        <Alert title="HubSpot could not be read" variant="warning" testId="routing-no-choices">
          Pipelines and deal types are missing from the pickers; try again later.
        </Alert>
      ) : null}
      {initial.warnings.map((warning) => (
        <Alert
          key={`${warning.field}:${warning.code}`}
          title="Check this rule"
          variant="warning"
          testId="routing-warning"
        >
          {warning.message}
        </Alert>
      ))}
      {rules.length === 0 ? (
        <Text testId="routing-empty">No rules yet: every deal gets the default below.</Text>
      ) : null}
      {rules.map((rule, index) => (
        <Tile key={rule.id ?? `new-${index}`} compact testId={`rule-${index}`}>
          <Flex direction="column" gap="xs">
            <Flex direction="row" gap="sm" align="center">
              <Text format={{ fontWeight: 'bold' }}>
                {index + 1}. {rule.name}
              </Text>
              <Tag variant="info">{rule.priority}</Tag>
              <Tag>{rule.queue}</Tag>
              {rule.sendAutomatically ? <Tag variant="success">sends automatically</Tag> : null}
            </Flex>
            <Text testId={`rule-${index}-conditions`}>
              {rule.conditions.length === 0
                ? 'Every deal'
                : rule.conditions.map((c) => describeCondition(c, choices)).join(', ')}
            </Text>
            <ButtonRow>
              <Button
                size="xs"
                disabled={index === 0}
                onClick={() => {
                  move(index, -1);
                }}
              >
                Up
              </Button>
              <Button
                size="xs"
                disabled={index === rules.length - 1}
                onClick={() => {
                  move(index, 1);
                }}
              >
                Down
              </Button>
              <Button
                size="xs"
                testId={`rule-${index}-edit`}
                onClick={() => {
                  setEditing({ index, draft: draftOf(rule) });
                }}
              >
                Edit
              </Button>
              <Button
                size="xs"
                variant="destructive"
                testId={`rule-${index}-remove`}
                onClick={() => {
                  setRules(rules.filter((_, i) => i !== index));
                }}
              >
                Remove
              </Button>
            </ButtonRow>
          </Flex>
        </Tile>
      ))}
      {editing !== null ? (
        <RuleForm
          draft={editing.draft}
          choices={choices}
          onChange={(draft) => {
            setEditing({ ...editing, draft });
          }}
          onCancel={() => {
            setEditing(null);
          }}
          onDone={(rule) => {
            const next = [...rules];
            if (editing.index >= next.length) next.push(rule);
            else next[editing.index] = rule;
            setRules(next);
            setEditing(null);
          }}
        />
      ) : (
        <Button
          testId="rule-add"
          onClick={() => {
            setEditing({ index: rules.length, draft: EMPTY_DRAFT });
          }}
        >
          Add a rule
        </Button>
      )}
      <Heading>When no rule matches</Heading>
      <Flex direction="row" gap="sm">
        <Select
          label="Priority"
          name="defaultPriority"
          testId="default-priority"
          value={fallback.priority}
          options={PRIORITIES}
          onChange={(value) => {
            if (isPriority(value)) setFallback({ ...fallback, priority: value });
          }}
        />
        <Input
          label="Review queue"
          name="defaultQueue"
          testId="default-queue"
          value={fallback.queue}
          onChange={(value) => {
            setFallback({ ...fallback, queue: value });
          }}
        />
      </Flex>
      {problem !== null ? (
        <Alert title="The rules were not saved" variant="danger" testId="routing-save-error">
          {problem}
        </Alert>
      ) : null}
      <LoadingButton
        loading={saving}
        disabled={saving || editing !== null}
        testId="routing-save"
        onClick={save}
      >
        Save routing rules
      </LoadingButton>
    </Flex>
  );
}

function RuleForm({
  draft,
  choices,
  onChange,
  onCancel,
  onDone,
}: {
  draft: Draft;
  choices: RuleChoices | null;
  onChange: (draft: Draft) => void;
  onCancel: () => void;
  onDone: (rule: RoutingRuleInput) => void;
}) {
  const [missing, setMissing] = useState(false);
  const pipelines = choices?.pipelines ?? [];
  const stages = pipelines
    .filter((p) => draft.pipelineId === '' || p.id === draft.pipelineId)
    .flatMap((p) =>
      p.stages.map((s) => ({
        value: s.value,
        label: draft.pipelineId === '' ? `${s.label} (${p.label})` : s.label,
      })),
    );
  const done = () => {
    if (draft.name.trim() === '' || draft.queue.trim() === '') {
      setMissing(true);
      return;
    }
    onDone({
      ...(draft.id !== undefined ? { id: draft.id } : {}),
      name: draft.name.trim(),
      conditions: draftConditions(draft),
      priority: draft.priority,
      queue: draft.queue.trim(),
      sendAutomatically: draft.sendAutomatically,
    });
  };
  return (
    <Tile testId="rule-form">
      <Flex direction="column" gap="sm">
        <Input
          label="Rule name"
          name="ruleName"
          testId="rule-name"
          required
          value={draft.name}
          error={missing && draft.name.trim() === ''}
          validationMessage={missing && draft.name.trim() === '' ? 'Name the rule.' : undefined}
          onChange={(value) => {
            onChange({ ...draft, name: value });
          }}
        />
        <Select
          label="Pipeline"
          name="rulePipeline"
          testId="rule-pipeline"
          value={draft.pipelineId}
          options={[
            { label: 'Any pipeline', value: '' },
            ...pipelines.map((p) => ({ label: p.label, value: p.id })),
          ]}
          onChange={(value) => {
            onChange({ ...draft, pipelineId: String(value), stageId: '' });
          }}
        />
        <Flex direction="row" gap="sm">
          <Select
            label="Stage"
            name="ruleStageMode"
            testId="rule-stage-mode"
            value={draft.stageMode}
            options={[
              { label: 'Any stage', value: 'any' },
              { label: 'Is', value: 'is' },
              { label: 'Is this stage or any later one', value: 'from' },
            ]}
            onChange={(value) => {
              onChange({ ...draft, stageMode: value === 'is' || value === 'from' ? value : 'any' });
            }}
          />
          {draft.stageMode !== 'any' ? (
            <Select
              label="Stage"
              name="ruleStage"
              testId="rule-stage"
              value={draft.stageId}
              options={stages}
              onChange={(value) => {
                onChange({ ...draft, stageId: String(value) });
              }}
            />
          ) : null}
        </Flex>
        <Flex direction="row" gap="sm">
          <NumberInput
            label="Amount at least"
            name="ruleMinAmount"
            testId="rule-min-amount"
            value={draft.minAmount}
            onChange={(value) => {
              onChange({ ...draft, minAmount: Number.isFinite(value) ? value : undefined });
            }}
          />
          <NumberInput
            label="Amount below"
            name="ruleMaxAmount"
            testId="rule-max-amount"
            value={draft.maxAmount}
            onChange={(value) => {
              onChange({ ...draft, maxAmount: Number.isFinite(value) ? value : undefined });
            }}
          />
        </Flex>
        {(choices?.dealTypes.length ?? 0) > 0 ? (
          <MultiSelect
            label="Deal type"
            name="ruleDealTypes"
            testId="rule-deal-types"
            value={draft.dealTypes}
            options={choices?.dealTypes ?? []}
            onChange={(value) => {
              onChange({ ...draft, dealTypes: value.map(String) });
            }}
          />
        ) : null}
        {(choices?.mappedFields.length ?? 0) > 0 ? (
          <Flex direction="row" gap="sm">
            <Select
              label="Mapped field"
              name="ruleField"
              testId="rule-field"
              value={draft.field}
              options={[{ label: 'None', value: '' }, ...(choices?.mappedFields ?? [])]}
              onChange={(value) => {
                onChange({ ...draft, field: String(value) });
              }}
            />
            <Input
              label="Is one of (comma-separated)"
              name="ruleFieldValues"
              testId="rule-field-values"
              value={draft.fieldValues}
              onChange={(value) => {
                onChange({ ...draft, fieldValues: value });
              }}
            />
          </Flex>
        ) : null}
        <Flex direction="row" gap="sm">
          <Select
            label="Priority"
            name="rulePriority"
            testId="rule-priority"
            value={draft.priority}
            options={PRIORITIES}
            onChange={(value) => {
              if (isPriority(value)) onChange({ ...draft, priority: value });
            }}
          />
          <Input
            label="Review queue"
            name="ruleQueue"
            testId="rule-queue"
            required
            value={draft.queue}
            error={missing && draft.queue.trim() === ''}
            validationMessage={
              missing && draft.queue.trim() === '' ? 'Name the review queue.' : undefined
            }
            onChange={(value) => {
              onChange({ ...draft, queue: value });
            }}
          />
        </Flex>
        <Toggle
          label="Send automatically when a deal enters a matching stage"
          name="ruleSendAutomatically"
          testId="rule-auto"
          checked={draft.sendAutomatically}
          onChange={(checked) => {
            onChange({ ...draft, sendAutomatically: checked });
          }}
        />
        <ButtonRow>
          <Button testId="rule-done" onClick={done}>
            Done
          </Button>
          <Button variant="transparent" testId="rule-cancel" onClick={onCancel}>
            Cancel
          </Button>
        </ButtonRow>
      </Flex>
    </Tile>
  );
}

const ACTION_TAGS: Record<
  DryRunResult['attachments'][number]['action'],
  { label: string; variant: 'success' | 'warning' | 'info' }
> = {
  import: { label: 'Imported', variant: 'success' },
  skip: { label: 'Skipped', variant: 'warning' },
  already_on_contract: { label: 'Already on the contract', variant: 'info' },
};

function DryRunPanel() {
  const [dealId, setDealId] = useState('');
  const [running, setRunning] = useState(false);
  const [result, setResult] = useState<
    { ok: true; data: DryRunResult } | { ok: false; message: string } | null
  >(null);
  const run = () => {
    setRunning(true);
    void callBackend(
      {
        path: SETTINGS_DRY_RUN_PATH,
        method: 'POST',
        timeoutMs: SETTINGS_TIMEOUT_MS,
        body: { dealId: dealId.trim() },
      },
      DryRunResultSchema,
    ).then((answer) => {
      setRunning(false);
      setResult(
        answer.ok ? { ok: true, data: answer.data } : { ok: false, message: answer.message },
      );
    });
  };
  return (
    <Flex direction="column" gap="sm">
      <Heading>Dry run</Heading>
      <Text>
        See what sending a deal would do with the saved rules and options. Nothing is written to the
        deal or to LexiContract.
      </Text>
      <Flex direction="row" gap="sm" align="end">
        <Input
          label="Deal ID"
          name="dryRunDealId"
          testId="dry-run-deal"
          value={dealId}
          onChange={setDealId}
        />
        <LoadingButton
          loading={running}
          disabled={running || dealId.trim() === ''}
          testId="dry-run"
          onClick={run}
        >
          Dry run
        </LoadingButton>
      </Flex>
      {result !== null && !result.ok ? (
        <Alert title="The dry run failed" variant="danger" testId="dry-run-error">
          {result.message}
        </Alert>
      ) : null}
      {result?.ok ? <DryRunReport result={result.data} /> : null}
    </Flex>
  );
}

function DryRunReport({ result }: { result: DryRunResult }) {
  const { routing } = result;
  return (
    <Flex direction="column" gap="sm" testId="dry-run-report">
      <DescriptionList direction="row">
        <DescriptionListItem label="Deal">{result.deal.name ?? result.deal.id}</DescriptionListItem>
        <DescriptionListItem label="Stage">{result.deal.stage ?? '—'}</DescriptionListItem>
        <DescriptionListItem label="Amount">{result.deal.amount ?? '—'}</DescriptionListItem>
        <DescriptionListItem label="Rule">
          {routing.matchedRule?.name ?? 'None (the default)'}
        </DescriptionListItem>
        <DescriptionListItem label="Priority">{routing.priority}</DescriptionListItem>
        <DescriptionListItem label="Review queue">{routing.queue}</DescriptionListItem>
      </DescriptionList>
      <Text testId="dry-run-outcome">
        {routing.sendAutomatically
          ? 'This rule sends the deal automatically when it enters a matching stage.'
          : 'No automatic send: the deal is sent from the card or a workflow.'}
      </Text>
      <Table testId="dry-run-rules">
        <TableHead>
          <TableRow>
            <TableHeader>Rule</TableHeader>
            <TableHeader>Result</TableHeader>
            <TableHeader>Why</TableHeader>
          </TableRow>
        </TableHead>
        <TableBody>
          {routing.evaluations.map((evaluation) => (
            <TableRow key={evaluation.ruleId}>
              <TableCell>{evaluation.name}</TableCell>
              <TableCell>
                <StatusTag
                  variant={
                    evaluation.result === 'matched'
                      ? 'success'
                      : evaluation.result === 'not_matched'
                        ? 'danger'
                        : 'default'
                  }
                >
                  {evaluation.result === 'matched'
                    ? 'Matches'
                    : evaluation.result === 'not_matched'
                      ? 'No match'
                      : 'Not evaluated'}
                </StatusTag>
              </TableCell>
              <TableCell>
                {evaluation.result === 'not_evaluated'
                  ? 'an earlier rule matched first'
                  : evaluation.conditions
                      .map((c) => `${c.matched ? '✓' : '✗'} ${c.explanation}`)
                      .join('; ')}
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {result.fields.available ? (
        <Text testId="dry-run-fields">
          {result.fields.values.map((f) => `${f.field}: ${f.value}`).join(', ')}
          {result.fields.missing.length > 0
            ? ` — missing: ${result.fields.missing.map((f) => `${f.field} (${f.property})`).join(', ')}`
            : ''}
        </Text>
      ) : (
        <Text testId="dry-run-fields">
          No field mapping yet: contracts get the deal&apos;s own fields.
        </Text>
      )}
      <Table testId="dry-run-attachments">
        <TableHead>
          <TableRow>
            <TableHeader>Attachment</TableHeader>
            <TableHeader>What happens</TableHeader>
            <TableHeader>Why</TableHeader>
          </TableRow>
        </TableHead>
        <TableBody>
          {result.attachments.map((attachment) => (
            <TableRow key={attachment.fileId}>
              <TableCell>{attachment.name}</TableCell>
              <TableCell>
                <Tag variant={ACTION_TAGS[attachment.action].variant}>
                  {ACTION_TAGS[attachment.action].label}
                </Tag>
              </TableCell>
              <TableCell>{attachment.explanation}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {result.attachments.length === 0 ? <Text>The deal has no attachments.</Text> : null}
      <Table testId="dry-run-writes">
        <TableHead>
          <TableRow>
            <TableHeader>Written to the deal</TableHeader>
            <TableHeader>Value</TableHeader>
            <TableHeader>When</TableHeader>
          </TableRow>
        </TableHead>
        <TableBody>
          {result.writes.map((write, i) => (
            <TableRow key={`${write.target}:${i}`}>
              <TableCell>{write.target}</TableCell>
              <TableCell>{write.value ?? '—'}</TableCell>
              <TableCell>{write.when}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </Flex>
  );
}
