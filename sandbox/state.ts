import { createHash, randomBytes } from 'node:crypto';

import type {
  CrmObject,
  FileAccess,
  HubSpotErrorDetail,
  Pipeline,
  PipelineStage,
  PropertyGroup,
  PropertyOption,
} from './wire.ts';
import { SandboxControlError, validationError, type SandboxHttpError } from './errors.ts';
import { CONTENT_TYPES, type FileContentSpec } from './file-content.ts';
import type { SandboxAppRegistration } from './types.ts';
import {
  emptyCrmObjects,
  type AssociationLabelRecord,
  type CrmObjectType,
  type CrmRecord,
  type DealAssociationRecord,
  type PropertyRecord,
} from './crm-objects.ts';

/** In-memory model of the HubSpot accounts ("portals") the sandbox serves. */

export const SANDBOX_PIPELINE_ID = 'default';
export const SANDBOX_STAGE_IDS = {
  appointmentScheduled: 'appointmentscheduled',
  qualifiedToBuy: 'qualifiedtobuy',
  presentationScheduled: 'presentationscheduled',
  legalReview: '1043765802',
  contractSent: 'contractsent',
  closedWon: 'closedwon',
  closedLost: 'closedlost',
} as const;
export const LEGAL_REVIEW_STAGE_LABEL = 'Legal Review';

/** Read-only properties HubSpot maintains itself. */
const READ_ONLY = new Set(['hs_object_id', 'createdate', 'hs_lastmodifieddate']);
/** What a read returns when no `properties` are asked for. */
export const DEFAULT_DEAL_PROPERTIES = [
  'amount',
  'closedate',
  'createdate',
  'dealname',
  'dealstage',
  'hs_lastmodifieddate',
  'hs_object_id',
  'pipeline',
];
const ALWAYS_RETURNED = ['createdate', 'hs_lastmodifieddate', 'hs_object_id'];

export interface SandboxUser {
  readonly id: number;
  readonly email: string;
}

export interface DealRecord {
  readonly id: string;
  readonly properties: Map<string, string>;
  readonly createdAt: number;
  updatedAt: number;
  readonly noteIds: string[];
}

export interface NoteRecord {
  readonly id: string;
  readonly properties: Map<string, string>;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface FileRecord {
  readonly id: string;
  readonly portalId: number;
  readonly fileName: string;
  readonly name: string;
  readonly extension: string;
  readonly contentType: string;
  readonly access: FileAccess;
  readonly spec: FileContentSpec;
  size: number;
  readonly createdAt: number;
  /** Bytes an app uploaded (Files upload); generated files have none and use `spec`. */
  content?: Buffer;
  /** The folder an uploaded file was put in, e.g. `/LexiContract`. */
  readonly folderPath?: string;
}

export type { PropertyRecord };

export interface PortalRecord {
  readonly portalId: number;
  readonly name: string;
  readonly domain: string;
  readonly users: SandboxUser[];
  installed: boolean;
  installedScopes: string[];
  readonly deals: Map<string, DealRecord>;
  readonly notes: Map<string, NoteRecord>;
  readonly files: Map<string, FileRecord>;
  readonly groups: Map<string, PropertyGroup>;
  readonly properties: Map<string, PropertyRecord>;
  readonly pipelines: Pipeline[];
  readonly companies: Map<string, CrmRecord>;
  readonly contacts: Map<string, CrmRecord>;
  readonly lineItems: Map<string, CrmRecord>;
  /** Deal → company/contact/line item links, keyed `dealId/type/id` (`crm-objects.ts`). */
  readonly dealAssociations: Map<string, DealAssociationRecord>;
  /** The portal's own association labels, keyed `type/label`. */
  readonly associationLabels: Map<string, AssociationLabelRecord>;
  /** Property definitions of companies, contacts and line items (deals: `properties`). */
  readonly objectProperties: Map<CrmObjectType, Map<string, PropertyRecord>>;
  /** Arrival times (ms) of the API calls counted by the rolling window (the last ~70 s). */
  rateWindow: number[];
}

export interface AccessTokenRecord {
  readonly token: string;
  readonly portalId: number;
  readonly userId: number;
  readonly scopes: string[];
  readonly expiresAt: number;
  revoked: boolean;
}

export interface RefreshTokenRecord {
  readonly token: string;
  readonly portalId: number;
  readonly userId: number;
  readonly scopes: string[];
  revoked: boolean;
}

export interface AuthCodeRecord {
  readonly code: string;
  readonly portalId: number;
  readonly userId: number;
  readonly scopes: string[];
  readonly redirectUri: string;
  readonly codeChallenge: string | undefined;
  readonly expiresAt: number;
  used: boolean;
  readonly issuedAccessTokens: string[];
  readonly issuedRefreshTokens: string[];
}

/** A property change or deletion, before it becomes a webhook event. */
export interface DealChange {
  readonly subscriptionType: 'object.propertyChange' | 'object.deletion' | 'object.creation';
  readonly portalId: number;
  readonly objectId: string;
  readonly propertyName?: string;
  readonly propertyValue?: string;
  readonly changeSource: string;
  readonly sourceId?: string;
  readonly occurredAt: number;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

function stage(
  id: string,
  label: string,
  displayOrder: number,
  probability: string,
  isClosed: boolean,
  at: string,
): PipelineStage {
  return {
    id,
    label,
    displayOrder,
    metadata: { isClosed: String(isClosed), probability },
    archived: false,
    createdAt: at,
    updatedAt: at,
    writePermissions: 'CRM_PERMISSIONS_ENFORCEMENT',
  };
}

function defaultPipeline(at: string): Pipeline {
  const s = SANDBOX_STAGE_IDS;
  return {
    id: SANDBOX_PIPELINE_ID,
    label: 'Sales Pipeline',
    displayOrder: 0,
    archived: false,
    createdAt: at,
    updatedAt: at,
    stages: [
      stage(s.appointmentScheduled, 'Appointment Scheduled', 0, '0.2', false, at),
      stage(s.qualifiedToBuy, 'Qualified To Buy', 1, '0.4', false, at),
      stage(s.presentationScheduled, 'Presentation Scheduled', 2, '0.6', false, at),
      stage(s.legalReview, LEGAL_REVIEW_STAGE_LABEL, 3, '0.7', false, at),
      stage(s.contractSent, 'Contract Sent', 4, '0.9', false, at),
      stage(s.closedWon, 'Closed Won', 5, '1.0', true, at),
      stage(s.closedLost, 'Closed Lost', 6, '0.0', true, at),
    ],
  };
}

const CURRENCIES = ['USD', 'EUR', 'GBP', 'CAD', 'AUD', 'CHF', 'JPY', 'SEK', 'NOK', 'DKK'];

function builtInProperty(
  name: string,
  label: string,
  type: string,
  fieldType: string,
  extra: Partial<PropertyRecord> = {},
): PropertyRecord {
  return {
    name,
    label,
    type,
    fieldType,
    groupName: 'dealinformation',
    description: '',
    options: [],
    displayOrder: -1,
    hidden: false,
    formField: false,
    hubspotDefined: true,
    calculated: false,
    externalOptions: false,
    hasUniqueValue: false,
    archived: false,
    createdAt: iso(0),
    updatedAt: iso(0),
    modificationMetadata: {
      archivable: false,
      readOnlyDefinition: true,
      readOnlyValue: READ_ONLY.has(name),
    },
    readOnlyValue: READ_ONLY.has(name),
    ...extra,
  };
}

function builtInProperties(): PropertyRecord[] {
  return [
    builtInProperty('dealname', 'Deal Name', 'string', 'text'),
    builtInProperty('amount', 'Amount', 'number', 'number'),
    builtInProperty('deal_currency_code', 'Currency', 'enumeration', 'select', {
      options: CURRENCIES.map((code, i) => ({
        label: code,
        value: code,
        displayOrder: i,
        hidden: false,
      })),
    }),
    builtInProperty('closedate', 'Close Date', 'datetime', 'date'),
    builtInProperty('pipeline', 'Pipeline', 'enumeration', 'select'),
    builtInProperty('dealstage', 'Deal Stage', 'enumeration', 'radio'),
    builtInProperty('hubspot_owner_id', 'Deal owner', 'enumeration', 'select', {
      externalOptions: true,
    }),
    builtInProperty('dealtype', 'Deal Type', 'enumeration', 'radio', {
      options: [
        { label: 'New Business', value: 'newbusiness', displayOrder: 0, hidden: false },
        { label: 'Existing Business', value: 'existingbusiness', displayOrder: 1, hidden: false },
      ],
    }),
    builtInProperty('description', 'Deal Description', 'string', 'textarea'),
    builtInProperty('closed_lost_reason', 'Closed Lost Reason', 'string', 'textarea'),
    builtInProperty('createdate', 'Create Date', 'datetime', 'date'),
    builtInProperty('hs_lastmodifieddate', 'Last Modified Date', 'datetime', 'date'),
    builtInProperty('hs_object_id', 'Record ID', 'number', 'number'),
  ];
}

export interface StateOptions {
  readonly app: SandboxAppRegistration;
  readonly now: () => number;
  readonly accessTokenTtlSeconds: number;
  readonly authCodeTtlSeconds: number;
}

/** Everything the sandbox remembers. One instance per running sandbox. */
export class SandboxState {
  readonly app: SandboxAppRegistration;
  readonly now: () => number;
  readonly accessTokenTtlSeconds: number;
  readonly authCodeTtlSeconds: number;
  readonly portals = new Map<number, PortalRecord>();
  readonly accessTokens = new Map<string, AccessTokenRecord>();
  readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  readonly authCodes = new Map<string, AuthCodeRecord>();
  /** Signed download tokens → file and expiry. */
  readonly signedUrls = new Map<string, { portalId: number; fileId: string; expiresAt: number }>();
  /** Listener for deal changes (the webhook dispatcher). */
  onDealChanges: (changes: readonly DealChange[]) => void = () => undefined;
  private nextPortalId = 90_000_001;
  private nextUserId = 7_000_001;
  private nextDealId = 40_000_000_001;
  private nextNoteId = 50_000_000_001;
  private nextFileId = 60_000_000_001;

  constructor(options: StateOptions) {
    this.app = options.app;
    this.now = options.now;
    this.accessTokenTtlSeconds = options.accessTokenTtlSeconds;
    this.authCodeTtlSeconds = options.authCodeTtlSeconds;
  }

  createPortal(input: { portalId?: number; name?: string; domain?: string } = {}): PortalRecord {
    const portalId = input.portalId ?? this.nextPortalId++;
    if (!Number.isSafeInteger(portalId) || portalId <= 0) {
      throw new SandboxControlError(`portalId must be a positive integer`, 400);
    }
    if (this.portals.has(portalId)) {
      throw new SandboxControlError(`portal ${portalId} already exists`, 409);
    }
    const name = input.name ?? `Test portal ${portalId}`;
    const domain = input.domain ?? `portal-${portalId}.sandbox.hubspot.test`;
    const at = iso(this.now());
    const portal: PortalRecord = {
      portalId,
      name,
      domain,
      users: [{ id: this.nextUserId++, email: `admin@${domain}` }],
      installed: false,
      installedScopes: [],
      deals: new Map(),
      notes: new Map(),
      files: new Map(),
      groups: new Map([
        [
          'dealinformation',
          { name: 'dealinformation', label: 'Deal information', displayOrder: -1, archived: false },
        ],
      ]),
      properties: new Map(builtInProperties().map((p) => [p.name, p])),
      pipelines: [defaultPipeline(at)],
      ...emptyCrmObjects(),
      rateWindow: [],
    };
    this.portals.set(portalId, portal);
    return portal;
  }

  portal(portalId: number): PortalRecord {
    const portal = this.portals.get(portalId);
    if (!portal) throw new SandboxControlError(`unknown portal ${portalId}`);
    return portal;
  }

  deal(portalId: number, dealId: string): DealRecord {
    const deal = this.portal(portalId).deals.get(dealId);
    if (!deal) throw new SandboxControlError(`unknown deal ${dealId} in portal ${portalId}`);
    return deal;
  }

  defaultUser(portal: PortalRecord): SandboxUser {
    const user = portal.users[0];
    if (!user) throw new SandboxControlError(`portal ${portal.portalId} has no users`, 500);
    return user;
  }

  findStage(
    portal: PortalRecord,
    stageId: string,
  ): { pipeline: Pipeline; stage: PipelineStage } | undefined {
    for (const pipeline of portal.pipelines) {
      const found = pipeline.stages.find((s) => s.id === stageId);
      if (found) return { pipeline, stage: found };
    }
    return undefined;
  }

  /** Options a value of this property must be among, or undefined when any value goes. */
  private allowedOptions(portal: PortalRecord, property: PropertyRecord): string[] | undefined {
    if (property.name === 'pipeline') return portal.pipelines.map((p) => p.id);
    if (property.name === 'dealstage') {
      return portal.pipelines.flatMap((p) => p.stages.map((s) => s.id));
    }
    if (property.type !== 'enumeration' || property.externalOptions === true) return undefined;
    return property.options.map((o: PropertyOption) => o.value);
  }

  /** HubSpot's per-value checks; returns the problems (empty = valid). */
  propertyProblems(portal: PortalRecord, values: Record<string, string>): HubSpotErrorDetail[] {
    const problems: HubSpotErrorDetail[] = [];
    for (const [name, value] of Object.entries(values)) {
      const property = portal.properties.get(name);
      const context = { propertyName: [name] };
      if (!property || property.archived === true) {
        problems.push({
          message: `Property "${name}" does not exist`,
          code: 'PROPERTY_DOESNT_EXIST',
          context,
        });
        continue;
      }
      if (property.readOnlyValue) {
        problems.push({
          message: `"${name}" is a read only property; its value cannot be set.`,
          code: 'READ_ONLY_VALUE',
          context,
        });
        continue;
      }
      if (typeof value !== 'string') {
        problems.push({
          message: `Property "${name}" must be a string`,
          code: 'INVALID_TYPE',
          context,
        });
        continue;
      }
      if (value === '') continue; // clearing a value is always allowed
      const options = this.allowedOptions(portal, property);
      if (options && !options.includes(value)) {
        problems.push({
          message: `${JSON.stringify(value)} was not one of the allowed options: [${options.join(', ')}]`,
          code: 'INVALID_OPTION',
          context,
        });
      } else if (property.type === 'number' && !/^-?\d+(\.\d+)?$/.test(value)) {
        problems.push({
          message: `${JSON.stringify(value)} is not a valid number`,
          code: 'INVALID_INTEGER',
          context,
        });
      } else if (
        (property.type === 'datetime' || property.type === 'date') &&
        !/^\d+$/.test(value) &&
        Number.isNaN(Date.parse(value))
      ) {
        problems.push({
          message: `${JSON.stringify(value)} is not a valid date`,
          code: 'INVALID_DATE',
          context,
        });
      }
    }
    return problems;
  }

  assertValidProperties(portal: PortalRecord, values: Record<string, string>): void {
    const problems = this.propertyProblems(portal, values);
    if (problems.length > 0) throw propertyValidationError(problems);
  }

  createDeal(
    portalId: number,
    properties: Record<string, string>,
    placement: { pipelineId?: string; stageId?: string } = {},
  ): DealRecord {
    const portal = this.portal(portalId);
    const pipelineId = placement.pipelineId ?? properties.pipeline ?? SANDBOX_PIPELINE_ID;
    const pipeline = portal.pipelines.find((p) => p.id === pipelineId);
    if (!pipeline) throw new SandboxControlError(`unknown pipeline ${pipelineId}`, 400);
    const stageId = placement.stageId ?? properties.dealstage ?? pipeline.stages[0]?.id ?? '';
    const values = { ...properties, pipeline: pipelineId, dealstage: stageId };
    const problems = this.propertyProblems(portal, values);
    if (problems.length > 0) {
      throw new SandboxControlError(problems.map((p) => p.message).join('; '), 400);
    }
    const now = this.now();
    const id = String(this.nextDealId++);
    const deal: DealRecord = {
      id,
      properties: new Map(Object.entries(values)),
      createdAt: now,
      updatedAt: now,
      noteIds: [],
    };
    deal.properties.set('createdate', iso(now));
    deal.properties.set('hs_lastmodifieddate', iso(now));
    deal.properties.set('hs_object_id', id);
    portal.deals.set(id, deal);
    return deal;
  }

  /** Applies values; returns the ones that actually changed and emits change events. */
  updateDeal(
    portal: PortalRecord,
    deal: DealRecord,
    values: Record<string, string>,
    source: { changeSource: string; sourceId?: string },
  ): Array<[string, string]> {
    const now = this.now();
    const changed: Array<[string, string]> = [];
    for (const [name, value] of Object.entries(values)) {
      if ((deal.properties.get(name) ?? '') !== value) changed.push([name, value]);
      if (value === '') deal.properties.delete(name);
      else deal.properties.set(name, value);
    }
    deal.updatedAt = now;
    deal.properties.set('hs_lastmodifieddate', iso(now));
    if (changed.length > 0) {
      this.onDealChanges(
        changed.map(([propertyName, propertyValue]) => ({
          subscriptionType: 'object.propertyChange',
          portalId: portal.portalId,
          objectId: deal.id,
          propertyName,
          propertyValue,
          changeSource: source.changeSource,
          ...(source.sourceId !== undefined ? { sourceId: source.sourceId } : {}),
          occurredAt: now,
        })),
      );
    }
    return changed;
  }

  deleteDeal(
    portalId: number,
    dealId: string,
    source: { changeSource: string; sourceId?: string },
  ): void {
    const portal = this.portal(portalId);
    this.deal(portalId, dealId);
    portal.deals.delete(dealId);
    this.onDealChanges([
      {
        subscriptionType: 'object.deletion',
        portalId,
        objectId: dealId,
        changeSource: source.changeSource,
        ...(source.sourceId !== undefined ? { sourceId: source.sourceId } : {}),
        occurredAt: this.now(),
      },
    ]);
  }

  /** A deal as the API returns it: the asked-for properties (null when unset). */
  renderObject(
    record: { id: string; properties: Map<string, string>; createdAt: number; updatedAt: number },
    requested: readonly string[] | undefined,
    known: (name: string) => boolean,
    archived: (name: string) => boolean = () => false,
  ): CrmObject {
    const names = new Set<string>(
      requested && requested.length > 0 ? requested : DEFAULT_DEAL_PROPERTIES,
    );
    for (const name of ALWAYS_RETURNED) names.add(name);
    const properties: Record<string, string | null> = {};
    for (const name of [...names].sort()) {
      if (!known(name) && !record.properties.has(name)) continue; // unknown names are ignored
      if (archived(name)) continue; // a deleted property's values are no longer served
      properties[name] = record.properties.get(name) ?? null;
    }
    return {
      id: record.id,
      properties,
      createdAt: iso(record.createdAt),
      updatedAt: iso(record.updatedAt),
      archived: false,
    };
  }

  /** Every property of a deal (for control reads). */
  fullDeal(deal: DealRecord): CrmObject {
    return {
      id: deal.id,
      properties: Object.fromEntries(
        [...deal.properties.entries()].sort(([a], [b]) => a.localeCompare(b)),
      ),
      createdAt: iso(deal.createdAt),
      updatedAt: iso(deal.updatedAt),
      archived: false,
    };
  }

  addNote(
    portal: PortalRecord,
    deal: DealRecord,
    body: string,
    attachmentIds: string[],
  ): NoteRecord {
    const now = this.now();
    const id = String(this.nextNoteId++);
    const note: NoteRecord = {
      id,
      properties: new Map([
        ['hs_note_body', body],
        ['hs_timestamp', iso(now)],
        ['hs_attachment_ids', attachmentIds.join(';')],
        ['hs_object_id', id],
        ['createdate', iso(now)],
        ['hs_lastmodifieddate', iso(now)],
      ]),
      createdAt: now,
      updatedAt: now,
    };
    portal.notes.set(id, note);
    deal.noteIds.push(id);
    return note;
  }

  addFile(
    portal: PortalRecord,
    spec: FileContentSpec,
    size: number,
    options: { contentType?: string; access?: FileAccess; content?: Buffer; folderPath?: string },
  ): FileRecord {
    const id = String(this.nextFileId++);
    const dot = spec.name.lastIndexOf('.');
    const file: FileRecord = {
      id,
      portalId: portal.portalId,
      fileName: spec.name,
      name: dot > 0 ? spec.name.slice(0, dot) : spec.name,
      extension: dot > 0 ? spec.name.slice(dot + 1).toLowerCase() : '',
      contentType: options.contentType ?? CONTENT_TYPES[spec.kind],
      access: options.access ?? 'HIDDEN_PRIVATE',
      spec,
      size,
      createdAt: this.now(),
      ...(options.content ? { content: options.content } : {}),
      ...(options.folderPath !== undefined ? { folderPath: options.folderPath } : {}),
    };
    portal.files.set(id, file);
    return file;
  }

  issueTokens(
    portal: PortalRecord,
    userId: number,
    scopes: string[],
  ): { access: AccessTokenRecord; refresh: RefreshTokenRecord } {
    const access: AccessTokenRecord = {
      token: `CN${randomToken(96)}`,
      portalId: portal.portalId,
      userId,
      scopes,
      expiresAt: this.now() + this.accessTokenTtlSeconds * 1000,
      revoked: false,
    };
    const refresh: RefreshTokenRecord = {
      token: `na1-${randomToken(4)}-${randomToken(24)}`,
      portalId: portal.portalId,
      userId,
      scopes,
      revoked: false,
    };
    this.accessTokens.set(access.token, access);
    this.refreshTokens.set(refresh.token, refresh);
    return { access, refresh };
  }

  issueAccessToken(refresh: RefreshTokenRecord): AccessTokenRecord {
    const access: AccessTokenRecord = {
      token: `CN${randomToken(96)}`,
      portalId: refresh.portalId,
      userId: refresh.userId,
      scopes: refresh.scopes,
      expiresAt: this.now() + this.accessTokenTtlSeconds * 1000,
      revoked: false,
    };
    this.accessTokens.set(access.token, access);
    return access;
  }

  /** Uninstall: every token of the portal stops working. */
  uninstall(portalId: number): void {
    const portal = this.portal(portalId);
    portal.installed = false;
    portal.installedScopes = [];
    for (const token of this.accessTokens.values())
      if (token.portalId === portalId) token.revoked = true;
    for (const token of this.refreshTokens.values())
      if (token.portalId === portalId) token.revoked = true;
  }

  userOf(portal: PortalRecord, userId: number): SandboxUser | undefined {
    return portal.users.find((u) => u.id === userId);
  }

  /**
   * Everything this instance remembers, for `persistence.ts`: every own field except the
   * configuration and the listener, so a map or counter added later is saved too. The values
   * are the live ones (the caller serializes them at once).
   */
  snapshotData(): Record<string, unknown> {
    const data: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(this)) {
      if (!NOT_DATA.has(key) && typeof value !== 'function') data[key] = value;
    }
    return data;
  }

  /**
   * Replaces what this instance remembers with `data` (from `snapshotData`, maybe of an older
   * build): maps and sets are refilled in place (others hold them), counters assigned; a field
   * the data lacks keeps its fresh value. Throws, changing nothing, when a field's kind differs.
   */
  restoreData(data: Record<string, unknown>): void {
    const self = this as unknown as Record<string, unknown>;
    const kind = (value: unknown): string =>
      value instanceof Map
        ? 'map'
        : value instanceof Set
          ? 'set'
          : Array.isArray(value)
            ? 'array'
            : typeof value;
    const fields = Object.keys(this.snapshotData()).filter((key) => key in data);
    for (const key of fields) {
      if (kind(self[key]) !== kind(data[key])) {
        throw new Error(`field ${key} is a ${kind(data[key])}, expected a ${kind(self[key])}`);
      }
    }
    for (const key of fields) {
      const current = self[key];
      const saved = data[key];
      if (current instanceof Map && saved instanceof Map) {
        current.clear();
        for (const [k, v] of saved) current.set(k, v);
      } else if (current instanceof Set && saved instanceof Set) {
        current.clear();
        for (const v of saved) current.add(v);
      } else if (Array.isArray(current) && Array.isArray(saved)) {
        current.splice(0, current.length, ...(saved as unknown[]));
      } else {
        self[key] = saved;
      }
    }
    // A portal saved by an older build lacks the fields added since: they start as a new
    // portal's would. Rate windows are about the seconds before the save, not about now.
    const scratch = new SandboxState({
      app: this.app,
      now: this.now,
      accessTokenTtlSeconds: this.accessTokenTtlSeconds,
      authCodeTtlSeconds: this.authCodeTtlSeconds,
    });
    for (const portal of this.portals.values()) {
      const fresh = scratch.createPortal({ portalId: portal.portalId }) as unknown as Record<
        string,
        unknown
      >;
      const saved = portal as unknown as Record<string, unknown>;
      for (const [key, value] of Object.entries(fresh)) if (!(key in saved)) saved[key] = value;
      portal.rateWindow = [];
    }
  }
}

/** Fields of a SandboxState that are configuration, not remembered data. */
const NOT_DATA = new Set([
  'app',
  'now',
  'accessTokenTtlSeconds',
  'authCodeTtlSeconds',
  'onDealChanges',
]);

/** HubSpot's 400 VALIDATION_ERROR for bad property values. */
export function propertyValidationError(problems: readonly HubSpotErrorDetail[]): SandboxHttpError {
  const summary = problems.map((p) => ({
    isValid: false,
    message: p.message,
    error: p.code,
    name: (p.context as { propertyName?: string[] } | undefined)?.propertyName?.[0],
  }));
  return validationError(`Property values were not valid: ${JSON.stringify(summary)}`, [
    ...problems,
  ]);
}

export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}
