import type { HubSpotTokenDeps } from '../client/access-tokens.ts';
import { portalRequest } from '../client/portal-client.ts';
import { PipelineListSchema } from '../wire/index.ts';
import { hubspotPaths } from '../wire/api-versions.ts';

/**
 * Deal stage metadata per portal, from `/crm/pipelines/{v}/deals`, cached in memory with
 * a TTL. An unknown stage id refreshes the cache (at most once per `MIN_REFRESH_MS`): admins
 * add stages.
 */

export interface StageInfo {
  readonly isClosed: boolean;
  readonly probability: number | undefined;
}

const TTL_MS = 5 * 60_000;
const MIN_REFRESH_MS = 30_000;

interface Entry {
  readonly at: number;
  readonly stages: ReadonlyMap<string, StageInfo>;
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
      const { body } = await portalRequest(
        deps,
        portalId,
        { method: 'GET', path: hubspotPaths.dealPipelines() },
        PipelineListSchema,
      );
      const stages = new Map<string, StageInfo>();
      for (const pipeline of body.results) {
        for (const stage of pipeline.stages) {
          const probability = Number(stage.metadata.probability);
          stages.set(stage.id, {
            isClosed: stage.metadata.isClosed === 'true',
            probability: Number.isFinite(probability) ? probability : undefined,
          });
        }
      }
      const entry = { at: Date.now(), stages };
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

  async stage(
    deps: HubSpotTokenDeps,
    portalId: string,
    stageId: string,
  ): Promise<StageInfo | undefined> {
    let entry = this.entries.get(portalId);
    if (!entry || Date.now() - entry.at > this.ttlMs) entry = await this.load(deps, portalId);
    const found = entry.stages.get(stageId);
    if (found || Date.now() - entry.at < MIN_REFRESH_MS) return found;
    return (await this.load(deps, portalId)).stages.get(stageId);
  }
}

/** Closed lost = a closed stage with probability 0 (closed won has 1). */
export function isClosedLost(stage: StageInfo | undefined): boolean {
  return stage !== undefined && stage.isClosed && stage.probability === 0;
}
