import type { HubSpotTokenDeps } from '../client/access-tokens.ts';
import { portalRequest } from '../client/portal-client.ts';
import { PipelineListSchema, type PipelineList } from '../wire/index.ts';
import { hubspotPaths } from '../wire/api-versions.ts';
import type { StageInfo } from './routing-rules.ts';

/**
 * A portal's deal stages in pipeline order, from `/crm/pipelines/{v}/deals`, cached in memory
 * with a TTL. An unknown stage id refreshes the cache (at most once per `MIN_REFRESH_MS`):
 * admins add stages. The inbound sync asks it whether a stage is closed lost; routing rules
 * ask it for stage order ("this stage or any later one").
 */

const TTL_MS = 5 * 60_000;
const MIN_REFRESH_MS = 30_000;

interface Entry {
  readonly at: number;
  readonly list: readonly StageInfo[];
  readonly stages: ReadonlyMap<string, StageInfo>;
}

/** The stages of a pipelines answer, each pipeline's in display order. */
export function stagesOf(body: PipelineList): StageInfo[] {
  const out: StageInfo[] = [];
  for (const pipeline of body.results) {
    pipeline.stages.forEach((stage, index) => {
      const probability = Number(stage.metadata.probability);
      out.push({
        id: stage.id,
        label: stage.label,
        pipelineId: pipeline.id,
        pipelineLabel: pipeline.label,
        // HubSpot lists stages in order; `displayOrder` wins when it is there.
        displayOrder: stage.displayOrder ?? index,
        isClosed: stage.metadata.isClosed === 'true',
        probability: Number.isFinite(probability) ? probability : undefined,
      });
    });
  }
  return out;
}

/** Reads a portal's deal pipelines (uncached). */
export async function readDealStages(
  deps: HubSpotTokenDeps,
  portalId: string,
): Promise<StageInfo[]> {
  const { body } = await portalRequest(
    deps,
    portalId,
    { method: 'GET', path: hubspotPaths.dealPipelines() },
    PipelineListSchema,
  );
  return stagesOf(body);
}

export class DealStageCache {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<Entry>>();

  private readonly ttlMs: number;

  constructor(ttlMs = TTL_MS) {
    this.ttlMs = ttlMs;
  }

  private async load(deps: HubSpotTokenDeps, portalId: string): Promise<Entry> {
    const pending = this.loading.get(portalId);
    if (pending) return pending;
    const promise = (async () => {
      const list = await readDealStages(deps, portalId);
      const entry = { at: Date.now(), list, stages: new Map(list.map((s) => [s.id, s])) };
      this.entries.set(portalId, entry);
      return entry;
    })();
    this.loading.set(portalId, promise);
    try {
      return await promise;
    } finally {
      this.loading.delete(portalId);
    }
  }

  private async fresh(deps: HubSpotTokenDeps, portalId: string): Promise<Entry> {
    const entry = this.entries.get(portalId);
    if (!entry || Date.now() - entry.at > this.ttlMs) return this.load(deps, portalId);
    return entry;
  }

  async stage(
    deps: HubSpotTokenDeps,
    portalId: string,
    stageId: string,
  ): Promise<StageInfo | undefined> {
    const entry = await this.fresh(deps, portalId);
    const found = entry.stages.get(stageId);
    if (found || Date.now() - entry.at < MIN_REFRESH_MS) return found;
    return (await this.load(deps, portalId)).stages.get(stageId);
  }

  /** Every stage of the portal, after making sure `stageId` is known when it can be. */
  async stages(
    deps: HubSpotTokenDeps,
    portalId: string,
    stageId?: string,
  ): Promise<readonly StageInfo[]> {
    if (stageId !== undefined) await this.stage(deps, portalId, stageId);
    return (await this.fresh(deps, portalId)).list;
  }
}
