import { writeBackNotice } from '../legal-review/file-write-back.ts';
import { createHash } from 'node:crypto';

import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

import { findImportedContract } from '../../core/contracts/external-records.ts';
import { ContractNotFoundError } from '../../core/contracts/errors.ts';
import { DomainError, ConflictError } from '../../platform/errors.ts';
import { parseInput } from '../../platform/http/validation.ts';
import {
  CardSendBodySchema,
  HubSpotIdSchema,
  type CardData,
  type CardSendResult,
} from '../../../../hubspot-app/app/cards/api-schemas.ts';
import { HubSpotApiError } from '../client/hubspot-http.ts';
import { acceptRawJson, requireHubSpotSignature, signedJson } from '../inbound/signed-request.ts';
import {
  attachmentRefsOf,
  classifyAttachmentRefs,
  type DealAttachment,
} from '../legal-review/deal-reader.ts';
import { requestLegalReview } from '../legal-review/import-service.ts';
import {
  hubSpotTokenDeps,
  PortalNeedsReconnectError,
  PortalNotConnectedError,
  type PortalAccessToken,
} from '../client/access-tokens.ts';
import { SIGNATURE_HEADERS } from '../signature/index.ts';
import { getHubSpotSettings } from '../legal-review/settings-store.ts';
import { toCardAttachments } from './attachments.ts';
import { createCardCaches, InFlight, type CardCaches } from './card-cache.ts';
import {
  connectionProblem,
  listDealContracts,
  needsReconnectData,
  readDealNotes,
  readPortalDeal,
  searchDealNotes,
  toCardContract,
} from './card-service.ts';
import {
  hubspotActor,
  portalConnection,
  signedQuery,
  signedQuerySchema,
  SignedProxyQuerySchema,
} from '../inbound/signed-query.ts';

/**
 * The Deal card's backend (SPEC §5): `GET /card?dealId=…` and `POST /card/send`, called by
 * the card through `hubspot.fetch`. Every request is v3-signed over the full URL including
 * the query HubSpot appends; the portal and user come from that signed query; the deal is
 * read from HubSpot with that portal's token before anything is shown or done.
 */

export class HubSpotUnavailableError extends DomainError {
  constructor() {
    super('hubspot_unavailable', 'HubSpot did not answer in time. Try again in a moment.', 502);
  }
}

export class IdempotencyKeyReusedError extends ConflictError {
  constructor() {
    super(
      'idempotency_key_reused',
      'This request id was already used for another deal or user; send a new request.',
    );
  }
}

const CardQuerySchema = signedQuerySchema({ dealId: HubSpotIdSchema });

function noStore(reply: FastifyReply): void {
  void reply.header('cache-control', 'no-store');
}

/** HubSpot-side trouble becomes a clear 502 (hubspot.fetch retries a 5xx once). */
function upstream(error: unknown): unknown {
  if (error instanceof HubSpotApiError && (error.retryable || error.status >= 500)) {
    return new HubSpotUnavailableError();
  }
  return error;
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

interface DealView {
  readonly deal: { readonly id: string; readonly name: string };
  readonly attachments: Settled<DealAttachment[]>;
}

/**
 * What a card load reads from HubSpot, in as few dependent round trips as HubSpot's API
 * allows. The deal read with its note ids is the ownership check and the truth about which
 * notes are the deal's. A cold load (the deal not loaded within the notes' minute) also
 * searches the deal's notes beside it (`searchDealNotes`), so the notes usually arrive with
 * the deal; the notes neither brought nor cached are read by id (`readDealNotes`); then the
 * metadata of files not cached, in parallel. Attachments are hidden files, which the files
 * search leaves out, so each file's metadata is its own GET. A repeat load makes one call.
 */
function readDealView(
  request: FastifyRequest,
  portalId: string,
  dealId: string,
  caches: CardCaches,
  running: InFlight<DealView>,
): Promise<DealView> {
  const { config } = request.server;
  // One load's calls look the portal's token up once.
  const tokenDeps = {
    ...hubSpotTokenDeps(request.server),
    tokenMemo: new Map<string, Promise<PortalAccessToken>>(),
  };
  const hubspotOptions = { maxAttempts: 2, baseDelayMs: 200 } as const;
  const key = `${portalId}:${dealId}`;
  const classifyOptions = {
    ...hubspotOptions,
    metadataCache: caches.fileMetadata,
    ...(config.importMaxFileBytes !== undefined ? { maxFileBytes: config.importMaxFileBytes } : {}),
  };
  return running.run(key, async () => {
    const cold = caches.loadedDeals.get(key) === undefined;
    const searched = cold ? searchDealNotes(tokenDeps, portalId, dealId) : undefined;
    // The files of the notes the search found are read as soon as it answers, not after the
    // deal read too: both are the signed portal's own reads, their metadata only warms the
    // cache, and nothing is shown unless the deal read succeeds.
    // A failed prefetch costs nothing but its calls: those files are read again below.
    const prefetched = searched
      ?.then(async (notes) => {
        if (notes && notes.length > 0) {
          await classifyAttachmentRefs(
            tokenDeps,
            portalId,
            attachmentRefsOf(notes),
            classifyOptions,
          );
        }
      })
      .catch(() => undefined);
    const [deal, found] = await Promise.all([
      readPortalDeal(tokenDeps, portalId, dealId),
      searched,
    ]);
    for (const note of found ?? []) caches.notes.set(portalId, note);
    const attachments = await settle(
      (async () => {
        await prefetched;
        const notes = await readDealNotes(
          tokenDeps,
          portalId,
          deal.noteIds,
          caches,
          hubspotOptions,
        );
        return classifyAttachmentRefs(
          tokenDeps,
          portalId,
          attachmentRefsOf(notes),
          classifyOptions,
        );
      })(),
    );
    if (attachments.ok) caches.loadedDeals.set(key, true);
    return { deal: { id: deal.id, name: deal.name }, attachments };
  });
}

/**
 * One card load: the HubSpot reads (`readDealView`, shared with a load of the same deal
 * already running) together with our contracts and settings from Postgres. Nothing is
 * returned unless the deal read succeeded for the signed portal.
 */
async function loadCard(
  request: FastifyRequest,
  caches: CardCaches,
  running: InFlight<DealView>,
): Promise<CardData> {
  const query = signedQuery(request, CardQuerySchema);
  const { config, db } = request.server;
  const connection = await portalConnection(request, query.portalId);
  if (connection.kind !== 'connected')
    return needsReconnectData(config.publicBaseUrl, connection.kind);
  try {
    const [view, contracts, settings, notice] = await Promise.all([
      readDealView(request, query.portalId, query.dealId, caches, running),
      listDealContracts(db, config, {
        organizationId: connection.organizationId,
        portalId: query.portalId,
        dealId: query.dealId,
      }),
      getHubSpotSettings(db, connection.organizationId),
      writeBackNotice(db, connection.organizationId, config.publicBaseUrl),
    ]);
    const { attachments } = view;
    let attachmentsError: string | null = null;
    if (!attachments.ok) {
      if (connectionProblem(attachments.error)) throw attachments.error;
      request.log.warn({ err: attachments.error }, 'card: listing the deal attachments failed');
      attachmentsError =
        'The attachments of this deal could not be listed. Reload the card to try again.';
    }
    return {
      state: 'ready',
      deal: view.deal,
      contracts: contracts.contracts,
      openContractId: contracts.openContractId,
      attachments: attachments.ok
        ? toCardAttachments(attachments.value, settings.attachmentFilter, config.importMaxFileBytes)
        : [],
      attachmentsError,
      ...(notice ? { writeBackNotice: notice } : {}),
    };
  } catch (error) {
    const problem = connectionProblem(error);
    if (problem) return needsReconnectData(config.publicBaseUrl, problem);
    throw upstream(error);
  }
}

/** The key under which a send is remembered: the card's request id, else the exact request. */
function idempotencyKey(request: FastifyRequest, requestId: string | undefined): string {
  if (requestId !== undefined) return `request:${requestId}`;
  const signature = request.headers[SIGNATURE_HEADERS.v3];
  const timestamp = request.headers[SIGNATURE_HEADERS.timestamp];
  return `signature:${createHash('sha256')
    .update(`${String(signature)}:${String(timestamp)}`)
    .digest('hex')}`;
}

async function send(request: FastifyRequest): Promise<CardSendResult> {
  const query = signedQuery(request, SignedProxyQuerySchema);
  const body = parseInput(CardSendBodySchema, signedJson(request), 'body');
  const { config, db, jobs } = request.server;
  const connection = await portalConnection(request, query.portalId);
  if (connection.kind === 'not_connected') throw new PortalNotConnectedError(query.portalId);
  if (connection.kind === 'needs_reconnect') throw new PortalNeedsReconnectError(query.portalId);
  const caller = { portalId: query.portalId, userId: query.userId, userEmail: query.userEmail };
  const tokenDeps = hubSpotTokenDeps(request.server);
  let deal;
  try {
    deal = await readPortalDeal(tokenDeps, query.portalId, body.dealId);
  } catch (error) {
    throw upstream(error);
  }
  const key = idempotencyKey(request, body.requestId);
  const settings = await getHubSpotSettings(db, connection.organizationId);

  return db.transaction().execute(async (trx) => {
    // The primary key serialises a request and its retry: the second waits here until the
    // first commits, then finds its row and answers the same.
    const claimed = await trx
      .insertInto('hubspot_card_requests')
      .values({
        portal_id: query.portalId,
        idempotency_key: key,
        organization_id: connection.organizationId,
        deal_id: deal.id,
        hubspot_user_id: query.userId,
      })
      .onConflict((oc) => oc.columns(['portal_id', 'idempotency_key']).doNothing())
      .returning('portal_id')
      .executeTakeFirst();
    if (!claimed) {
      const first = await trx
        .selectFrom('hubspot_card_requests')
        .select(['deal_id', 'hubspot_user_id', 'response'])
        .where('portal_id', '=', query.portalId)
        .where('idempotency_key', '=', key)
        .executeTakeFirstOrThrow();
      if (first.deal_id !== deal.id || first.hubspot_user_id !== query.userId) {
        throw new IdempotencyKeyReusedError();
      }
      request.log.info({ dealId: deal.id }, 'card: repeated send answered from the first one');
      return first.response as CardSendResult;
    }

    const result = await requestLegalReview(
      { db, jobs, config },
      {
        organizationId: connection.organizationId,
        portalId: query.portalId,
        dealId: deal.id,
        trigger: 'card',
        actor: hubspotActor(caller),
        dealName: deal.name,
        fileFilter: settings.attachmentFilter,
        ...(body.fileIds !== undefined ? { fileIds: body.fileIds } : {}),
        ...(body.newVersion !== undefined ? { newVersion: body.newVersion } : {}),
      },
      trx,
    );
    const contract = await findImportedContract(trx, connection.organizationId, result.contract.id);
    if (!contract) throw new ContractNotFoundError(result.contract.id);
    const outcome = !result.created ? 'existing' : body.newVersion ? 'new_version' : 'created';
    const files =
      body.fileIds === undefined
        ? 'its attachments'
        : body.fileIds.length === 1
          ? '1 selected attachment'
          : `${body.fileIds.length} selected attachments`;
    const response: CardSendResult = {
      outcome,
      contract: toCardContract(config.publicBaseUrl, contract),
      message:
        outcome === 'created'
          ? `Sent to legal review. LexiContract is importing the deal with ${files}.`
          : outcome === 'new_version'
            ? `A new version was sent to legal review with ${files}.`
            : `This deal is already in legal review; ${files} are being added to its open contract.`,
    };
    await trx
      .updateTable('hubspot_card_requests')
      .set({ contract_id: contract.id, response: JSON.stringify(response) })
      .where('portal_id', '=', query.portalId)
      .where('idempotency_key', '=', key)
      .execute();
    return response;
  });
}

export const hubspotCardRoutes: FastifyPluginAsync = async (app) => {
  // The card's JSON is small; hubspot.fetch caps bodies at 1 MB anyway.
  acceptRawJson(app, { bodyLimit: 64 * 1024 });
  app.addHook('preHandler', requireHubSpotSignature('v3'));
  const caches = createCardCaches();
  const running = new InFlight<DealView>();

  app.get('/card', async (request, reply) => {
    noStore(reply);
    return loadCard(request, caches, running);
  });

  app.post('/card/send', async (request, reply) => {
    noStore(reply);
    return send(request);
  });
};
