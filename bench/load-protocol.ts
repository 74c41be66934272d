/** Messages between the bench (parent) and the load-generator child (`load-child.ts`). */

export interface LoadCommon {
  /** Origin of the server, e.g. http://127.0.0.1:4000 */
  readonly origin: string;
  readonly connections: number;
  /** Seconds; ignored when `amount` is set. */
  readonly durationSeconds?: number;
  readonly amount?: number;
  /**
   * Requests per second over all connections, evenly spaced (an open loop whose latencies
   * count from each request's due time); unlimited (closed loop, autocannon) when unset.
   */
  readonly overallRate?: number;
}

export type LoadTarget =
  | { readonly kind: 'hello'; readonly path: string }
  | {
      readonly kind: 'webhook';
      readonly path: string;
      /** The app's PUBLIC_BASE_URL (the URI HubSpot signs). */
      readonly publicBaseUrl: string;
      readonly clientSecret: string;
      readonly appId: number;
      readonly portalId: number;
      readonly eventsPerBatch: number;
      /** Events name deal ids 1..dealCount. */
      readonly dealCount: number;
    }
  | {
      readonly kind: 'card';
      readonly path: string;
      readonly publicBaseUrl: string;
      readonly clientSecret: string;
      readonly appId: string;
      /** Each request picks the next of these (portal, deal, user). */
      readonly targets: readonly {
        portalId: string;
        dealId: string;
        userId: string;
        userEmail: string;
      }[];
    }
  | {
      readonly kind: 'workflow';
      readonly path: string;
      readonly publicBaseUrl: string;
      readonly clientSecret: string;
      readonly portalId: number;
      readonly actionDefinitionId: number;
      /** Each request names a new deal id from this one upwards. */
      readonly firstDealId: number;
    };

export interface LoadRequest {
  readonly id: number;
  readonly common: LoadCommon;
  readonly target: LoadTarget;
}

export interface LoadSummary {
  readonly requests: number;
  readonly durationSeconds: number;
  readonly reqPerSec: number;
  readonly latencyMs: {
    readonly p50: number;
    readonly p90: number;
    readonly p97_5: number;
    readonly p99: number;
    readonly max: number;
    readonly mean: number;
  };
  readonly ok2xx: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly statusCodes: Record<string, number>;
  /** Events (webhook) or requests (others) carried by the 2xx answers. */
  readonly unitsPer2xx: number;
}

export type LoadReply =
  | { readonly id: number; readonly ok: true; readonly summary: LoadSummary }
  | { readonly id: number; readonly ok: false; readonly error: string };
