import {
  Alert,
  Button,
  Input,
  LoadingButton,
  NumberInput,
  Select,
  StatusTag,
  Table,
  TableCell,
  Tag,
  Text,
  Tile,
  Toggle,
  hubspot,
} from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';

import {
  DryRunResultSchema,
  RoutingRulesDataSchema,
  type DryRunResult,
  type RoutingRulesData,
} from '../../hubspot-app/app/settings/routing-schemas.ts';
import { RoutingSection } from '../../hubspot-app/app/settings/RoutingSection.tsx';

const ORIGIN = 'https://lexicontract.example.com';
const RULES = `${ORIGIN}/api/v1/integrations/hubspot/settings/rules`;
const DRY_RUN = `${ORIGIN}/api/v1/integrations/hubspot/settings/dry-run`;

const RULE_ID = '5b0b8f5e-3a57-4a55-9a3c-4f3f9a1c2d10';

const rulesData: RoutingRulesData = {
  version: 3,
  rules: [
    {
      id: RULE_ID,
      name: 'Big deals at Contract Sent',
      conditions: [
        { kind: 'pipeline', pipelineIds: ['default'] },
        { kind: 'stage', stageIds: ['contractsent'] },
        { kind: 'amount', min: 50_000 },
      ],
      priority: 'high',
      queue: 'Enterprise',
      sendAutomatically: true,
    },
  ],
  default: { priority: 'normal', queue: 'General' },
  warnings: [
    {
      code: 'rules_overlap',
      field: 'rules[1]',
      message: 'Rules "A" and "B" overlap: a deal matching both goes to "A" (first match wins).',
    },
  ],
  choices: {
    pipelines: [
      {
        id: 'default',
        label: 'Sales Pipeline',
        stages: [
          { value: 'legalreview', label: 'Legal Review' },
          { value: 'contractsent', label: 'Contract Sent' },
        ],
      },
    ],
    dealTypes: [{ value: 'newbusiness', label: 'New Business' }],
    mappedFields: [],
  },
};

const dryRun: DryRunResult = {
  deal: {
    id: '42',
    name: 'Acme MSA',
    pipeline: 'Sales Pipeline',
    stage: 'Contract Sent',
    amount: '60000',
  },
  routing: {
    rulesVersion: 3,
    matchedRule: { id: RULE_ID, name: 'Big deals at Contract Sent' },
    priority: 'high',
    queue: 'Enterprise',
    sendAutomatically: true,
    evaluations: [
      {
        ruleId: RULE_ID,
        name: 'Big deals at Contract Sent',
        result: 'matched',
        conditions: [
          { kind: 'pipeline', matched: true, explanation: 'pipeline is Sales Pipeline' },
          { kind: 'amount', matched: true, explanation: 'amount 60,000 is ≥ 50,000' },
        ],
      },
    ],
  },
  fields: { available: false, values: [], missing: [] },
  attachments: [
    {
      fileId: '1',
      name: 'MSA.pdf',
      action: 'import',
      reason: null,
      explanation: 'would be imported',
    },
    {
      fileId: '2',
      name: 'logo.png',
      action: 'skip',
      reason: 'type_not_allowed',
      explanation: 'not a type legal reviews (PDF, Word, text)',
    },
  ],
  openContract: null,
  writes: [{ target: 'lexicontract_status', value: 'importing', when: 'when the deal is sent' }],
};

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

function stubFetch(answers: Record<string, Response[]>) {
  return vi.spyOn(hubspot, 'fetch').mockImplementation(async (url) => {
    const next = answers[String(url)]?.shift();
    if (next === undefined) throw new Error(`unexpected hubspot.fetch ${String(url)}`);
    return next;
  });
}

async function openSection() {
  const renderer = createRenderer('settings');
  renderer.render(<RoutingSection />);
  renderer.findByTestId(Button, 'routing-open').trigger('onClick');
  await renderer.waitFor(() => {
    expect(renderer.maybeFind(LoadingButton, { testId: 'routing-loading' })).toBeNull();
  });
  return renderer;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('RoutingSection', () => {
  it('has valid fixtures', () => {
    expect(RoutingRulesDataSchema.safeParse(rulesData).success).toBe(true);
    expect(DryRunResultSchema.safeParse(dryRun).success).toBe(true);
  });

  it('loads nothing until opened, then shows the rules in order with their warnings', async () => {
    const fetch = stubFetch({ [RULES]: [json(200, rulesData)] });
    const renderer = createRenderer('settings');
    renderer.render(<RoutingSection />);
    expect(fetch).not.toHaveBeenCalled();
    renderer.findByTestId(Button, 'routing-open').trigger('onClick');
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(Tile, { testId: 'rule-0' })).not.toBeNull();
    });
    expect(fetch).toHaveBeenCalledWith(RULES, { method: 'GET', timeout: 8_000 });
    expect(renderer.findByTestId(Text, 'rule-0-conditions').text).toBe(
      'pipeline Sales Pipeline, stage Contract Sent, amount ≥ 50,000',
    );
    expect(
      renderer
        .findByTestId(Tile, 'rule-0')
        .findAll(Tag)
        .map((tag) => tag.text),
    ).toEqual(['high', 'Enterprise', 'sends automatically']);
    expect(renderer.findByTestId(Alert, 'routing-warning').text).toContain('overlap');
    // No primary buttons: the page's one primary action is the options' Save.
    expect(
      [...renderer.findAll(Button), ...renderer.findAll(LoadingButton)].filter(
        (b) => b.props.variant === 'primary',
      ),
    ).toEqual([]);
  });

  it('adds a rule through the form and saves the ordered list with the version it started from', async () => {
    const saved = { ...rulesData, version: 4, warnings: [] };
    const fetch = stubFetch({ [RULES]: [json(200, rulesData), json(200, saved)] });
    const renderer = await openSection();
    renderer.findByTestId(Button, 'rule-add').trigger('onClick');
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(Tile, { testId: 'rule-form' })).not.toBeNull();
    });
    renderer.findByTestId(Input, 'rule-name').trigger('onChange', 'From Legal Review on' as never);
    renderer.findByTestId(Select, 'rule-stage-mode').trigger('onChange', 'from' as never);
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(Select, { testId: 'rule-stage' })).not.toBeNull();
    });
    renderer.findByTestId(Select, 'rule-stage').trigger('onChange', 'legalreview' as never);
    renderer.findByTestId(NumberInput, 'rule-max-amount').trigger('onChange', 50_000 as never);
    renderer.findByTestId(Select, 'rule-priority').trigger('onChange', 'urgent' as never);
    renderer.findByTestId(Input, 'rule-queue').trigger('onChange', 'Commercial' as never);
    renderer.findByTestId(Toggle, 'rule-auto').trigger('onChange', true as never);
    await renderer.waitFor(() => {
      expect(renderer.findByTestId(Toggle, 'rule-auto').props.checked).toBe(true);
    });
    renderer.findByTestId(Button, 'rule-done').trigger('onClick');
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(Tile, { testId: 'rule-1' })).not.toBeNull();
    });
    expect(renderer.findByTestId(Text, 'rule-1-conditions').text).toBe(
      'stage Legal Review or later, amount < 50,000',
    );
    renderer.findByTestId(LoadingButton, 'routing-save').trigger('onClick');
    await renderer.waitFor(() => {
      expect(fetch).toHaveBeenCalledTimes(2);
    });
    expect(fetch).toHaveBeenLastCalledWith(RULES, {
      method: 'PUT',
      timeout: 8_000,
      body: {
        baseVersion: 3,
        default: { priority: 'normal', queue: 'General' },
        rules: [
          rulesData.rules[0],
          {
            name: 'From Legal Review on',
            conditions: [
              { kind: 'stage_from', stageId: 'legalreview' },
              { kind: 'amount', max: 50_000 },
            ],
            priority: 'urgent',
            queue: 'Commercial',
            sendAutomatically: true,
          },
        ],
      },
    });
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(Alert, { testId: 'routing-warning' })).toBeNull();
    });
  });

  it('asks for a name and a queue instead of adding an incomplete rule', async () => {
    stubFetch({ [RULES]: [json(200, rulesData)] });
    const renderer = await openSection();
    renderer.findByTestId(Button, 'rule-add').trigger('onClick');
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(Tile, { testId: 'rule-form' })).not.toBeNull();
    });
    renderer.findByTestId(Button, 'rule-done').trigger('onClick');
    await renderer.waitFor(() => {
      expect(renderer.findByTestId(Input, 'rule-name').props.error).toBe(true);
    });
    expect(renderer.findByTestId(Input, 'rule-queue').props.validationMessage).toBe(
      'Name the review queue.',
    );
    expect(renderer.maybeFind(Tile, { testId: 'rule-1' })).toBeNull();
  });

  it('shows why a save was refused', async () => {
    stubFetch({
      [RULES]: [
        json(200, rulesData),
        json(400, {
          error: {
            code: 'unknown_stage',
            message: 'rules[0].conditions[1].stageIds[0]: the deal stage "x" does not exist',
          },
        }),
      ],
    });
    const renderer = await openSection();
    renderer.findByTestId(LoadingButton, 'routing-save').trigger('onClick');
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(Alert, { testId: 'routing-save-error' })).not.toBeNull();
    });
    expect(renderer.findByTestId(Alert, 'routing-save-error').text).toContain(
      'rules[0].conditions[1].stageIds[0]',
    );
  });

  it('runs a dry run for a deal and shows the rule, the attachments and the writes', async () => {
    const fetch = stubFetch({ [RULES]: [json(200, rulesData)], [DRY_RUN]: [json(200, dryRun)] });
    const renderer = await openSection();
    expect(renderer.findByTestId(LoadingButton, 'dry-run').props.disabled).toBe(true);
    renderer.findByTestId(Input, 'dry-run-deal').trigger('onChange', ' 42 ' as never);
    await renderer.waitFor(() => {
      expect(renderer.findByTestId(LoadingButton, 'dry-run').props.disabled).toBe(false);
    });
    renderer.findByTestId(LoadingButton, 'dry-run').trigger('onClick');
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(Table, { testId: 'dry-run-rules' })).not.toBeNull();
    });
    expect(fetch).toHaveBeenLastCalledWith(DRY_RUN, {
      method: 'POST',
      timeout: 8_000,
      body: { dealId: '42' },
    });
    const ruleCells = renderer.findByTestId(Table, 'dry-run-rules').findAll(TableCell);
    expect(
      ruleCells.map(
        (c) => c.text ?? c.maybeFind(StatusTag)?.text ?? c.maybeFind(Tag)?.text ?? null,
      ),
    ).toEqual([
      'Big deals at Contract Sent',
      'Matches',
      '✓ pipeline is Sales Pipeline; ✓ amount 60,000 is ≥ 50,000',
    ]);
    const files = renderer.findByTestId(Table, 'dry-run-attachments').findAll(TableCell);
    expect(
      files.map((c) => c.text ?? c.maybeFind(StatusTag)?.text ?? c.maybeFind(Tag)?.text ?? null),
    ).toEqual([
      'MSA.pdf',
      'Imported',
      'would be imported',
      'logo.png',
      'Skipped',
      'not a type legal reviews (PDF, Word, text)',
    ]);
    expect(renderer.findByTestId(Text, 'dry-run-outcome').text).toContain('automatically');
  });

  it('shows a load failure and loads again on request', async () => {
    stubFetch({
      [RULES]: [
        json(409, { error: { code: 'hubspot_not_connected', message: 'Connect first.' } }),
        json(200, rulesData),
      ],
    });
    const renderer = await openSection();
    expect(renderer.findByTestId(Alert, 'routing-error').text).toContain('Connect first.');
    renderer.findByTestId(Button, 'routing-retry').trigger('onClick');
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(Tile, { testId: 'rule-0' })).not.toBeNull();
    });
  });
});
