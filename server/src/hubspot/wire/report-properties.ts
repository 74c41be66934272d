import type { PropertyCreate } from './properties.ts';

/**
 * The report-ready deal properties (issue 15 item 4), in the LexiContract property group,
 * beside `lexicontract_status`. A HubSpot admin reports on them directly ("average days in
 * legal by pipeline") with no export. `type`/`fieldType` are the pairs the Properties API
 * documents: `datetime`/`date`, `enumeration`/`select`, `number`/`number`, `string`/`text`.
 */

export const REPORT_DECISIONS = ['approved', 'signed', 'rejected', 'cancelled'] as const;
export type ReportDecision = (typeof REPORT_DECISIONS)[number];

export const REPORT_PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;

export const REPORT_PROPERTY_NAMES = {
  submittedAt: 'lexicontract_submitted_at',
  decidedAt: 'lexicontract_decided_at',
  decision: 'lexicontract_decision',
  reviewer: 'lexicontract_reviewer',
  daysInReview: 'lexicontract_days_in_review',
  openContracts: 'lexicontract_open_contracts',
  priority: 'lexicontract_priority',
} as const;

export type ReportPropertyName = (typeof REPORT_PROPERTY_NAMES)[keyof typeof REPORT_PROPERTY_NAMES];

const LABELS: Record<string, string> = {
  approved: 'Approved',
  signed: 'Signed',
  rejected: 'Rejected',
  cancelled: 'Cancelled',
  low: 'Low',
  normal: 'Normal',
  high: 'High',
  urgent: 'Urgent',
};

function options(values: readonly string[]) {
  return values.map((value, index) => ({
    value,
    label: LABELS[value] ?? value,
    displayOrder: index,
    hidden: false,
  }));
}

/** What provisioning creates (without `groupName`, which is the app's group). */
export const REPORT_PROPERTY_DEFINITIONS: readonly Omit<PropertyCreate, 'groupName'>[] = [
  {
    name: REPORT_PROPERTY_NAMES.submittedAt,
    label: 'LexiContract submitted at',
    description: 'When the deal was sent to legal review. Set by LexiContract.',
    type: 'datetime',
    fieldType: 'date',
  },
  {
    name: REPORT_PROPERTY_NAMES.decidedAt,
    label: 'LexiContract decided at',
    description: 'When legal review reached its decision. Set by LexiContract.',
    type: 'datetime',
    fieldType: 'date',
  },
  {
    name: REPORT_PROPERTY_NAMES.decision,
    label: 'LexiContract decision',
    description: 'The legal decision on the deal’s contract. Set by LexiContract.',
    type: 'enumeration',
    fieldType: 'select',
    options: options(REPORT_DECISIONS),
  },
  {
    name: REPORT_PROPERTY_NAMES.reviewer,
    label: 'LexiContract reviewer',
    description: 'Who made the legal decision. Set by LexiContract.',
    type: 'string',
    fieldType: 'text',
  },
  {
    name: REPORT_PROPERTY_NAMES.daysInReview,
    label: 'LexiContract days in review',
    description:
      'Days from submission to the legal decision (one decimal); empty while open. Set by LexiContract.',
    type: 'number',
    fieldType: 'number',
  },
  {
    name: REPORT_PROPERTY_NAMES.openContracts,
    label: 'LexiContract open contracts',
    description: 'How many of the deal’s contracts are still open in LexiContract.',
    type: 'number',
    fieldType: 'number',
  },
  {
    name: REPORT_PROPERTY_NAMES.priority,
    label: 'LexiContract priority',
    description: 'The review priority asked for when the deal was sent. Set by LexiContract.',
    type: 'enumeration',
    fieldType: 'select',
    options: options(REPORT_PRIORITIES),
  },
];
