import { readFile } from 'node:fs/promises';

import { describe, expect, it } from 'vitest';
import { z } from 'zod';

import { IMPORT_RESULT_MESSAGES } from '../../../server/src/hubspot/legal-review/import-results.ts';
import {
  ACTION_INPUT_FIELDS,
  ACTION_OUTPUT_FIELDS,
  ATTACHMENT_CHOICES,
  REVIEW_PRIORITIES,
  WORKFLOW_ACTION_PATH,
} from '../../../server/src/hubspot/workflow/action-definition.ts';
import { parseActionInputs } from '../../../server/src/hubspot/workflow/action-inputs.ts';
import {
  DECISION_ERROR_CODES,
  DECISION_ERROR_MESSAGES,
  DECISION_MESSAGES,
  DECISION_OUTCOMES,
  DECISION_OUTPUT_FIELDS,
} from '../../../server/src/hubspot/decision/action-definition.ts';

const FILE = 'hubspot-app/app/workflow-actions/send-to-legal-review-hsmeta.json';

const TypeDefinition = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/),
  type: z.enum(['string', 'enumeration', 'number', 'bool', 'date', 'datetime']),
  fieldType: z.enum([
    'text',
    'textarea',
    'select',
    'radio',
    'checkbox',
    'number',
    'booleancheckbox',
    'date',
  ]),
  options: z.array(z.object({ value: z.string(), label: z.string().min(1) })).optional(),
});

const WorkflowActionSchema = z.object({
  uid: z.string().regex(/^[a-zA-Z0-9_\-.]{1,64}$/),
  type: z.literal('workflow-action'),
  config: z.object({
    actionUrl: z.url(),
    isPublished: z.literal(true),
    supportedClients: z.array(z.object({ client: z.string() })).min(1),
    objectTypes: z.tuple([z.literal('DEAL')]),
    inputFields: z.array(
      z.object({
        typeDefinition: TypeDefinition,
        supportedValueTypes: z.array(z.enum(['STATIC_VALUE', 'OBJECT_PROPERTY'])).min(1),
        isRequired: z.boolean(),
      }),
    ),
    outputFields: z.array(z.object({ typeDefinition: TypeDefinition })),
    executionRules: z.array(
      z.object({
        labelName: z.string(),
        conditions: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
      }),
    ),
    labels: z.object({
      en: z.object({
        actionName: z.string().min(1),
        actionDescription: z.string().min(1),
        actionCardContent: z.string().min(1),
        inputFieldLabels: z.record(z.string(), z.string().min(1)),
        inputFieldDescriptions: z.record(z.string(), z.string().min(1)),
        outputFieldLabels: z.record(z.string(), z.string().min(1)),
        executionRules: z.record(z.string(), z.string().min(1)),
      }),
    }),
  }),
});

async function load(file = FILE) {
  return WorkflowActionSchema.parse(JSON.parse(await readFile(file, 'utf8')));
}

describe(FILE, () => {
  it('is a published DEAL workflow action in the 2026.03 project format', async () => {
    const action = await load();
    expect(action.config.supportedClients).toContainEqual({ client: 'WORKFLOWS' });
    expect(action.config.labels.en.actionName).toBe('Send to LexiContract legal review');
  });

  it('posts to the route the server serves, on the origin of the app’s redirect URL', async () => {
    const action = await load();
    const app = JSON.parse(await readFile('hubspot-app/app/app-hsmeta.json', 'utf8')) as {
      config: { auth: { redirectUrls: string[] } };
    };
    const url = new URL(action.config.actionUrl);
    expect(url.protocol).toBe('https:');
    expect(url.pathname).toBe(WORKFLOW_ACTION_PATH);
    expect(WORKFLOW_ACTION_PATH).toBe('/api/v1/integrations/hubspot/webhook');
    const redirect = app.config.auth.redirectUrls[0];
    expect(redirect).toBeDefined();
    expect(url.origin).toBe(new URL(redirect ?? '').origin);
  });

  it('declares exactly the input fields the server reads, with the values it accepts', async () => {
    const action = await load();
    const names = action.config.inputFields.map((f) => f.typeDefinition.name);
    expect(names.sort()).toEqual(Object.values(ACTION_INPUT_FIELDS).sort());
    const options = (name: string) =>
      action.config.inputFields
        .find((f) => f.typeDefinition.name === name)
        ?.typeDefinition.options?.map((o) => o.value);
    expect(options(ACTION_INPUT_FIELDS.attachments)).toEqual([...ATTACHMENT_CHOICES]);
    expect(options(ACTION_INPUT_FIELDS.priority)).toEqual([...REVIEW_PRIORITIES]);
    // Every option HubSpot can send is accepted by the server's parser.
    for (const attachments of ATTACHMENT_CHOICES) {
      for (const priority of REVIEW_PRIORITIES) {
        const parsed = parseActionInputs({
          [ACTION_INPUT_FIELDS.attachments]: attachments,
          [ACTION_INPUT_FIELDS.namePattern]: '*.pdf',
          [ACTION_INPUT_FIELDS.priority]: priority,
        });
        expect(parsed.ok).toBe(true);
      }
    }
    expect(Object.keys(action.config.labels.en.inputFieldLabels).sort()).toEqual(names.sort());
    expect(Object.keys(action.config.labels.en.inputFieldDescriptions).sort()).toEqual(
      names.sort(),
    );
  });

  it('declares exactly the output fields the server writes', async () => {
    const action = await load();
    const names = action.config.outputFields.map((f) => f.typeDefinition.name);
    expect(names.sort()).toEqual(Object.values(ACTION_OUTPUT_FIELDS).sort());
    expect(Object.keys(action.config.labels.en.outputFieldLabels).sort()).toEqual(names.sort());
  });

  it('puts every import_result code into words, as the server says them', async () => {
    const action = await load();
    const rules = action.config.executionRules;
    expect(rules.map((r) => r.conditions[ACTION_OUTPUT_FIELDS.importResult]).sort()).toEqual(
      Object.keys(IMPORT_RESULT_MESSAGES).sort(),
    );
    for (const rule of rules) {
      expect(action.config.labels.en.executionRules[rule.labelName]).toBe(
        IMPORT_RESULT_MESSAGES[rule.labelName as keyof typeof IMPORT_RESULT_MESSAGES],
      );
    }
  });

  it('refuses settings the server cannot honour', () => {
    expect(parseActionInputs({ [ACTION_INPUT_FIELDS.attachments]: 'matching' }).ok).toBe(false);
    expect(parseActionInputs({ [ACTION_INPUT_FIELDS.priority]: 'whenever' }).ok).toBe(false);
    expect(parseActionInputs({})).toEqual({
      ok: true,
      fileFilter: { mode: 'all' },
      priority: undefined,
      note: null,
    });
  });
});

const WAIT_FILE = 'hubspot-app/app/workflow-actions/wait-for-legal-decision-hsmeta.json';

describe(WAIT_FILE, () => {
  it('declares every output field the server can return, with every value it writes', async () => {
    const action = await load(WAIT_FILE);
    const names = action.config.outputFields.map((f) => f.typeDefinition.name);
    expect(names.sort()).toEqual(Object.values(DECISION_OUTPUT_FIELDS).sort());
    expect(Object.keys(action.config.labels.en.outputFieldLabels).sort()).toEqual(names.sort());
    const options = (name: string) =>
      action.config.outputFields
        .find((f) => f.typeDefinition.name === name)
        ?.typeDefinition.options?.map((o) => o.value);
    expect(options(DECISION_OUTPUT_FIELDS.decision)).toEqual([...DECISION_OUTCOMES]);
    // A branch can test the timeout: it is a value of `decision`, not a failure.
    expect(DECISION_OUTCOMES).toContain('timed_out');
    expect(options(DECISION_OUTPUT_FIELDS.errorCode)).toEqual([...DECISION_ERROR_CODES]);
  });

  it('has an execution rule, in the server’s words, for every decision and every failure', async () => {
    const action = await load(WAIT_FILE);
    const messages: Record<string, string> = { ...DECISION_MESSAGES, ...DECISION_ERROR_MESSAGES };
    const covered = action.config.executionRules.map((rule) => {
      const [[field, value]] = Object.entries(rule.conditions) as [[string, string]];
      expect(rule.labelName).toBe(value);
      expect(action.config.labels.en.executionRules[rule.labelName]).toBe(messages[value]);
      return `${field}=${value}`;
    });
    expect(covered.sort()).toEqual(
      [
        ...DECISION_OUTCOMES.map((d) => `${DECISION_OUTPUT_FIELDS.decision}=${d}`),
        ...DECISION_ERROR_CODES.map((c) => `${DECISION_OUTPUT_FIELDS.errorCode}=${c}`),
      ].sort(),
    );
    expect(Object.keys(action.config.labels.en.executionRules).sort()).toEqual(
      Object.keys(messages).sort(),
    );
  });
});
