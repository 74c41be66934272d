import type { Kysely } from 'kysely';

import { contractUrl } from '../../core/contracts/contract.ts';
import { listImportedExternalFileIds } from '../../core/contracts/external-records.ts';
import { DEFAULT_IMPORT_MAX_FILE_BYTES } from '../../platform/config/env.ts';
import type { AppConfig } from '../../platform/config/runtime.ts';
import type { DB } from '../../platform/db/schema.ts';
import type { DryRunResult } from '../../../../hubspot-app/app/settings/routing-schemas.ts';
import type { HubSpotTokenDeps } from '../client/access-tokens.ts';
import {
  displayName,
  fetchFileMetadata,
  listDealAttachmentRefs,
  type SkipReason,
} from '../legal-review/deal-reader.ts';
import { writeBackNeedsReauthorization } from '../legal-review/file-write-back.ts';
import { beforeDownload } from '../legal-review/import-job.ts';
import { findOpenDealContract } from '../legal-review/import-service.ts';
import { readDealStages } from '../legal-review/pipeline-stages.ts';
import { REPORT_PROPERTY_NAMES } from '../wire/report-properties.ts';
import { PRIORITY_PROPERTY, decideRouting, routingFactsOf } from '../legal-review/routing.ts';
import { getHubSpotSettings } from '../legal-review/settings-store.ts';
import { readMappedDeal } from '../legal-review/mapped-deal.ts';
import { currentFieldMapping } from '../legal-review/field-mapping-store.ts';

/**
 * The settings page's dry run: what sending one deal would do, with nothing written anywhere
 * (no database row, no HubSpot write; only reads, which take their slots of the portal's rate
 * budget like any call). It runs the send's own pieces on the deal as it is now: the routing
 * rules (each rule's evaluation), the field mapping (values and what is missing; a required
 * field missing means the send would fail naming the property), the import's attachment selection
 * (`beforeDownload`, the name filter of the settings page, files already on the open
 * contract), and lists the deal writes a send makes.
 */

export interface DryRunDeps {
  readonly db: Kysely<DB>;
  readonly tokenDeps: HubSpotTokenDeps;
  readonly config: Pick<AppConfig, 'publicBaseUrl' | 'importMaxFileBytes'>;
}

const SKIP_EXPLANATIONS: Record<SkipReason, string> = {
  too_large: 'larger than the import allows',
  type_not_allowed: 'not a type legal reviews (PDF, Word, text)',
  sensitive_or_unavailable: 'sensitive, archived or no longer available in HubSpot',
  duplicate: 'the same content is already on the contract',
  download_refused: 'its download host is not allowed',
};

export async function dryRunDeal(
  deps: DryRunDeps,
  input: { organizationId: string; portalId: string; dealId: string },
): Promise<DryRunResult> {
  const { organizationId, portalId, dealId } = input;
  const [{ snapshot, mapping: mapped }, versioned, stages, settings, open] = await Promise.all([
    readMappedDeal(deps.db, deps.tokenDeps, { organizationId, portalId, dealId }),
    currentFieldMapping(deps.db, organizationId),
    readDealStages(deps.tokenDeps, portalId),
    getHubSpotSettings(deps.db, organizationId),
    findOpenDealContract(deps.db, organizationId, portalId, dealId),
  ]);
  const decision = await decideRouting(
    { db: deps.db, tokenDeps: deps.tokenDeps },
    {
      organizationId,
      portalId,
      stages,
      facts: routingFactsOf({
        pipelineId: snapshot.pipeline?.id ?? null,
        stageId: snapshot.stage?.id ?? null,
        amount: snapshot.amount,
        dealType: snapshot.dealType ?? null,
        mapped: mapped?.values,
      }),
    },
  );

  // The attachments, selected as a workflow or automatic send selects them.
  const maxBytes = deps.config.importMaxFileBytes ?? DEFAULT_IMPORT_MAX_FILE_BYTES;
  const refs = await listDealAttachmentRefs(deps.tokenDeps, portalId, dealId);
  const present = open ? await listImportedExternalFileIds(deps.db, open.id) : new Set<string>();
  const attachments: DryRunResult['attachments'] = [];
  for (const ref of refs) {
    const metadata = await fetchFileMetadata(deps.tokenDeps, portalId, ref.fileId);
    if (present.has(ref.fileId)) {
      attachments.push({
        fileId: ref.fileId,
        name: metadata ? displayName(metadata) : `file-${ref.fileId}`,
        action: 'already_on_contract',
        reason: null,
        explanation: 'already on the open contract; a send keeps it',
      });
      continue;
    }
    const decided = beforeDownload(ref.fileId, metadata, settings.attachmentFilter, maxBytes);
    if (decided.kind === 'not_selected') {
      attachments.push({
        fileId: ref.fileId,
        name: decided.name,
        action: 'skip',
        reason: 'not_selected',
        explanation:
          settings.attachmentFilter.mode === 'matching'
            ? `its name does not match the pattern "${settings.attachmentFilter.pattern}"`
            : 'not selected',
      });
    } else if (decided.kind === 'skip') {
      attachments.push({
        fileId: ref.fileId,
        name: decided.name,
        action: 'skip',
        reason: decided.reason,
        explanation: SKIP_EXPLANATIONS[decided.reason],
      });
    } else {
      attachments.push({
        fileId: ref.fileId,
        name: decided.attachment.name,
        action: 'import',
        reason: null,
        explanation: `would be imported as ${decided.type.contentType} (its bytes are checked again while downloading)`,
      });
    }
  }

  const mappedSources = new Map(
    (versioned?.mapping.fields ?? []).map((f) => [
      f.field,
      `${f.source.object}.${f.source.property}`,
    ]),
  );
  const url = open ? contractUrl(deps.config.publicBaseUrl, open.id) : null;
  const writes: DryRunResult['writes'] = [
    { target: 'lexicontract_status', value: 'importing', when: 'when the deal is sent' },
    {
      target: 'lexicontract_status',
      value: open ? open.negotiationStatus : 'pending_review',
      when: 'when the import finishes (import_failed if it fails)',
    },
    {
      target: 'lexicontract_contract_url',
      value: url,
      when: open
        ? 'when the deal is sent (its open contract)'
        : 'when the deal is sent (the new contract)',
    },
  ];
  writes.push(
    { target: PRIORITY_PROPERTY, value: decision.priority, when: 'when the deal is sent' },
    {
      target: REPORT_PROPERTY_NAMES.submittedAt,
      value: open ? open.createdAt.toISOString() : null,
      when: open ? 'already set (its open contract)' : 'when the deal is sent (the new contract)',
    },
    {
      target: [
        REPORT_PROPERTY_NAMES.decidedAt,
        REPORT_PROPERTY_NAMES.decision,
        REPORT_PROPERTY_NAMES.reviewer,
        REPORT_PROPERTY_NAMES.daysInReview,
      ].join(', '),
      value: null,
      when: 'when legal decides (cleared if the decision is withdrawn)',
    },
    {
      target: REPORT_PROPERTY_NAMES.openContracts,
      value: null,
      when: "with every status write: the deal's open contracts",
    },
  );
  writes.push(
    settings.timelineNotes
      ? {
          target: 'note',
          value: open ? 'timeline: new version sent' : 'timeline: sent to legal (files and hashes)',
          when: 'when the import finishes; a decision note when legal decides',
        }
      : { target: 'note', value: null, when: 'never: timeline notes are off' },
  );
  const writeBack =
    settings.writeBackFiles && !(await writeBackNeedsReauthorization(deps.db, organizationId));
  writes.push({
    target: 'note',
    value: writeBack ? 'a note with the reviewed files' : null,
    when: writeBack
      ? 'when legal approves or signs the contract'
      : 'never: writing reviewed files back is off or lacks its HubSpot scopes',
  });

  return {
    deal: {
      id: snapshot.dealId,
      name: snapshot.name,
      pipeline: snapshot.pipeline?.label ?? snapshot.pipeline?.id ?? null,
      stage: snapshot.stage?.label ?? snapshot.stage?.id ?? null,
      amount: snapshot.amount,
    },
    routing: {
      rulesVersion: decision.rulesVersion,
      matchedRule: decision.rule ? { id: decision.rule.id, name: decision.rule.name } : null,
      priority: decision.priority,
      queue: decision.queue,
      sendAutomatically: decision.sendAutomatically,
      evaluations: decision.evaluations,
    },
    fields: mapped
      ? {
          available: true,
          values: Object.entries(mapped.values).map(([field, value]) => ({
            field,
            property: mappedSources.get(field) ?? '',
            value: String(value),
          })),
          missing: mapped.missing.map((m) => ({
            field: m.field,
            property: m.property,
            message: m.required ? `required: ${m.message}` : m.message,
          })),
        }
      : { available: false, values: [], missing: [] },
    attachments,
    openContract: open && url ? { id: open.id, url, status: open.negotiationStatus } : null,
    writes,
  };
}
