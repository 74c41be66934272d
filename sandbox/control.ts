import { createHash, randomInt } from 'node:crypto';

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';

import type { WorkflowActionExecution } from './wire.ts';
import { SandboxControlError } from './errors.ts';
import { fileContentChunks, fileContentLength, normalizeFileSpec } from './file-content.ts';
import { decideAuthorization, installDirectly, validateAuthorizeRequest } from './oauth-routes.ts';
import { crmObjectsControl } from './crm-objects-routes.ts';
import { cardFetch, sendWorkflowAction, type WebhookDispatcher } from './outbound.ts';
import type { SandboxRuntime } from './runtime.ts';
import { LEGAL_REVIEW_STAGE_LABEL, SANDBOX_STAGE_IDS } from './state.ts';
import type {
  SandboxAppRegistration,
  SandboxControl,
  SandboxFileInput,
  WorkflowActionResult,
} from './types.ts';

const DEFAULT_ACTION_PROPERTIES = ['dealname', 'dealstage', 'pipeline', 'amount', 'hs_object_id'];

export interface ControlDeps {
  readonly runtime: SandboxRuntime;
  readonly webhooks: WebhookDispatcher;
  readonly actionDefinitionId: number;
  readonly actionObjectProperties: readonly string[] | undefined;
}

function uiSource(userId: number): { changeSource: string; sourceId: string } {
  return { changeSource: 'CRM_UI', sourceId: `userId:${userId}` };
}

export function createControl(deps: ControlDeps): SandboxControl {
  const { runtime, webhooks } = deps;
  const state = runtime.state;
  let executionIndex = 0;

  const userFor = (portalId: number, userId: number | undefined): number => {
    const portal = state.portal(portalId);
    if (userId === undefined) return state.defaultUser(portal).id;
    return userId;
  };

  const fireAction = async (
    portalId: number,
    dealId: string,
    inputFields: Record<string, unknown>,
    callbackId: string | undefined,
    actionUrl?: string,
  ): Promise<WorkflowActionResult> => {
    const target = actionUrl ?? state.app.actionUrl;
    if (!target) throw new SandboxControlError('the app has no actionUrl registered', 400);
    const deal = state.deal(portalId, dealId);
    executionIndex += 1;
    const id =
      callbackId ?? `ap-${portalId}-${Date.now()}${randomInt(1000, 9999)}-${executionIndex}-0`;
    runtime.callbacks.set(id, { portalId, dealId });
    const properties: Record<string, string | null> = {};
    for (const name of deps.actionObjectProperties ?? DEFAULT_ACTION_PROPERTIES) {
      properties[name] = deal.properties.get(name) ?? null;
    }
    const request: WorkflowActionExecution = {
      callbackId: id,
      origin: {
        portalId,
        actionDefinitionId: deps.actionDefinitionId,
        actionDefinitionVersion: 1,
        actionExecutionIndexIdentifier: {
          enrollmentId: 1000 + executionIndex,
          actionExecutionIndex: 0,
        },
      },
      context: { source: 'WORKFLOWS', workflowId: 192_814_114, actionId: 1 },
      object: { objectId: Number(dealId), objectType: 'DEAL', properties },
      inputFields,
    };
    return sendWorkflowAction(runtime, target, request, dealId);
  };

  return {
    createPortal(input = {}) {
      return { portalId: state.createPortal(input).portalId };
    },
    listPortals() {
      return [...state.portals.values()].map((p) => ({
        portalId: p.portalId,
        name: p.name,
        domain: p.domain,
        installed: p.installed,
        users: p.users.map((u) => ({ ...u })),
      }));
    },
    installApp(portalId, opts = {}) {
      return installDirectly(state, portalId, opts);
    },
    approveInstall(authorizeUrl, opts = {}) {
      const params = new URL(authorizeUrl).searchParams;
      const result = validateAuthorizeRequest(state, params);
      if (!result.ok) throw new SandboxControlError(result.problem, 400);
      return decideAuthorization(state, result.pending, {
        deny: opts.deny === true,
        portalId: opts.portalId ?? 'new',
      });
    },
    createDeal(portalId, properties, opts = {}) {
      return { id: state.createDeal(portalId, properties, opts).id };
    },
    getDeal(portalId, dealId) {
      const deal = state.portal(portalId).deals.get(dealId);
      return deal ? state.fullDeal(deal) : undefined;
    },
    editDealAsUser(portalId, dealId, properties, userId) {
      const portal = state.portal(portalId);
      const deal = state.deal(portalId, dealId);
      const problems = state.propertyProblems(portal, properties);
      if (problems.length > 0) {
        throw new SandboxControlError(problems.map((p) => p.message).join('; '), 400);
      }
      state.updateDeal(portal, deal, properties, uiSource(userFor(portalId, userId)));
      return state.fullDeal(deal);
    },
    deleteDeal(portalId, dealId, userId) {
      state.deleteDeal(portalId, dealId, uiSource(userFor(portalId, userId)));
    },
    async moveDealToStage(portalId, dealId, stageId, opts = {}) {
      const portal = state.portal(portalId);
      const deal = state.deal(portalId, dealId);
      const found = state.findStage(portal, stageId);
      if (!found) throw new SandboxControlError(`unknown stage ${stageId}`, 400);
      state.updateDeal(
        portal,
        deal,
        { pipeline: found.pipeline.id, dealstage: stageId },
        uiSource(userFor(portalId, opts.userId)),
      );
      const isLegalReview =
        found.stage.id === SANDBOX_STAGE_IDS.legalReview ||
        found.stage.label === LEGAL_REVIEW_STAGE_LABEL;
      if (isLegalReview && state.app.actionUrl && portal.installed) {
        const workflowAction = await fireAction(portalId, dealId, {}, undefined);
        return { deal: state.fullDeal(deal), workflowAction };
      }
      return { deal: state.fullDeal(deal) };
    },
    attachNoteWithFiles(portalId, dealId, files: SandboxFileInput[], opts = {}) {
      const portal = state.portal(portalId);
      const deal = state.deal(portalId, dealId);
      const records = files.map((input) => {
        const spec = normalizeFileSpec(input);
        return state.addFile(portal, spec, fileContentLength(spec), {
          ...(input.contentType !== undefined ? { contentType: input.contentType } : {}),
          ...(input.access !== undefined ? { access: input.access } : {}),
        });
      });
      const fileIds = records.map((r) => r.id);
      const note = state.addNote(
        portal,
        deal,
        opts.body ?? `Attached ${files.map((f) => f.name).join(', ')}`,
        fileIds,
      );
      return { noteId: note.id, fileIds };
    },
    async fileSha256(portalId, fileId) {
      const file = state.portal(portalId).files.get(fileId);
      if (!file) throw new SandboxControlError(`unknown file ${fileId}`);
      const hash = createHash('sha256');
      let n = 0;
      for (const chunk of fileContentChunks(file.spec)) {
        hash.update(chunk);
        // Yield now and then so hashing a large file does not starve the server.
        if (++n % 256 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      return hash.digest('hex');
    },
    pipelines(portalId) {
      return state.portal(portalId).pipelines;
    },
    fireWorkflowAction(portalId, dealId, inputFields = {}, opts = {}) {
      return fireAction(portalId, dealId, inputFields, opts.callbackId, opts.actionUrl);
    },
    workflowExecutions() {
      return [...runtime.workflowExecutions];
    },
    callbackCompletions(callbackId) {
      return runtime.completions.filter(
        (c) => callbackId === undefined || c.callbackId === callbackId,
      );
    },
    deliverWebhookEvents(events, opts = {}) {
      return webhooks.deliverNow(events, opts);
    },
    webhookDeliveries() {
      return [...webhooks.deliveries];
    },
    webhooksIdle() {
      return webhooks.idle();
    },
    signedCardFetch(request) {
      return cardFetch(runtime, request);
    },
    injectFault(fault) {
      return runtime.addFault(fault);
    },
    clearFaults() {
      runtime.clearFaults();
    },
    revokePortal(portalId) {
      state.uninstall(portalId);
    },
    requestLog(opts = {}) {
      const since = opts.since;
      return runtime.requestLog.filter((e) => since === undefined || e.time >= since);
    },
    tokenEndpointCalls() {
      return [...runtime.tokenCalls];
    },
    setLeanAnswers(on) {
      runtime.leanAnswers = on;
    },
    setSearchIndexDelay(ms) {
      if (!Number.isSafeInteger(ms) || ms < 0) {
        throw new SandboxControlError('search index delay must be a whole number of ms ≥ 0', 400);
      }
      runtime.searchIndexDelayMs = ms;
    },
    reset() {
      runtime.reset();
      webhooks.deliveries.length = 0;
    },
    ...crmObjectsControl(runtime),
  };
}

const PortalIdParams = z.object({ portalId: z.coerce.number().int().positive() });
const DealParams = PortalIdParams.extend({ dealId: z.string().min(1) });
const StringRecord = z.record(z.string(), z.string());
const FileInputSchema = z.object({
  name: z.string().min(1),
  contentType: z.string().optional(),
  kind: z.enum(['pdf', 'docx', 'txt', 'bytes']).optional(),
  sizeBytes: z.number().int().nonnegative().optional(),
  access: z
    .enum([
      'HIDDEN_INDEXABLE',
      'HIDDEN_NOT_INDEXABLE',
      'HIDDEN_PRIVATE',
      'HIDDEN_SENSITIVE',
      'PRIVATE',
      'PUBLIC_INDEXABLE',
      'PUBLIC_NOT_INDEXABLE',
      'SENSITIVE',
    ])
    .optional(),
  text: z.string().optional(),
  seed: z.string().optional(),
});

function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new SandboxControlError(
      result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
      400,
    );
  }
  return result.data;
}

function mediaType(request: FastifyRequest): string | undefined {
  const type = request.headers['content-type'];
  return typeof type === 'string' ? type.split(';')[0]?.trim().toLowerCase() : undefined;
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return (
    request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
  );
}

/**
 * Runs before any `/_sandbox/...` request is parsed. The control API drives the fake HubSpot
 * (installs, deals, signed card calls), so a web page elsewhere must not be able to use it
 * through the operator's browser: requests a browser marks as coming from another site
 * (`Sec-Fetch-Site`, `Origin`) are refused, and bodies must be JSON, which a cross-site form
 * cannot send. Scripts and tests (Node's fetch sends neither header) are unaffected.
 */
export function guardControlRequest(request: FastifyRequest, origin: string): void {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw new SandboxControlError('the control API refuses cross-site requests', 403);
  }
  const requestOrigin = request.headers.origin;
  if (requestOrigin !== undefined && requestOrigin !== origin) {
    throw new SandboxControlError('the control API refuses cross-site requests', 403);
  }
  if (hasBody(request) && mediaType(request) !== 'application/json') {
    throw new SandboxControlError('the control API takes application/json bodies only', 415);
  }
}

/** The control surface as JSON routes under `/_sandbox/...` for other processes. */
export async function controlRoutes(
  app: FastifyInstance,
  control: SandboxControl,
  runtime: SandboxRuntime,
): Promise<void> {
  app.get('/_sandbox/info', async () => {
    // Anyone who can reach the port may ask; the client secret would let them sign requests
    // as HubSpot to the app. In-process callers read it from the handle instead.
    const app: Partial<SandboxAppRegistration> = { ...runtime.state.app };
    delete app.clientSecret;
    return {
      url: runtime.origin,
      authorizeUrl: `${runtime.origin}/oauth/authorize`,
      app,
      stages: SANDBOX_STAGE_IDS,
    };
  });
  app.get('/_sandbox/portals', async () => ({ results: control.listPortals() }));
  app.post('/_sandbox/portals', async (request, reply) => {
    const input = parse(
      z
        .object({
          portalId: z.number().int().positive().optional(),
          name: z.string().optional(),
          domain: z.string().optional(),
        })
        .default({}),
      request.body ?? {},
    );
    return reply.code(201).send(control.createPortal(input));
  });
  app.post('/_sandbox/portals/:portalId/install', async (request) => {
    const { portalId } = parse(PortalIdParams, request.params);
    const input = parse(
      z
        .object({ scopes: z.array(z.string()).optional(), userId: z.number().int().optional() })
        .default({}),
      request.body ?? {},
    );
    return control.installApp(portalId, input);
  });
  app.post('/_sandbox/approve-install', async (request) => {
    const input = parse(
      z.object({
        authorizeUrl: z.url(),
        portalId: z.union([z.number().int().positive(), z.literal('new')]).optional(),
        deny: z.boolean().optional(),
      }),
      request.body,
    );
    return control.approveInstall(input.authorizeUrl, {
      ...(input.portalId !== undefined ? { portalId: input.portalId } : {}),
      ...(input.deny !== undefined ? { deny: input.deny } : {}),
    });
  });
  app.post('/_sandbox/portals/:portalId/revoke', async (request, reply) => {
    const { portalId } = parse(PortalIdParams, request.params);
    control.revokePortal(portalId);
    return reply.code(204).send();
  });
  app.get('/_sandbox/portals/:portalId/pipelines', async (request) => {
    const { portalId } = parse(PortalIdParams, request.params);
    return { results: control.pipelines(portalId) };
  });
  app.post('/_sandbox/portals/:portalId/deals', async (request, reply) => {
    const { portalId } = parse(PortalIdParams, request.params);
    const input = parse(
      z.object({
        properties: StringRecord.default({}),
        pipelineId: z.string().optional(),
        stageId: z.string().optional(),
      }),
      request.body ?? {},
    );
    const opts = {
      ...(input.pipelineId !== undefined ? { pipelineId: input.pipelineId } : {}),
      ...(input.stageId !== undefined ? { stageId: input.stageId } : {}),
    };
    return reply.code(201).send(control.createDeal(portalId, input.properties, opts));
  });
  app.get('/_sandbox/portals/:portalId/deals/:dealId', async (request) => {
    const { portalId, dealId } = parse(DealParams, request.params);
    const deal = control.getDeal(portalId, dealId);
    if (!deal) throw new SandboxControlError(`unknown deal ${dealId}`);
    return deal;
  });
  app.patch('/_sandbox/portals/:portalId/deals/:dealId', async (request) => {
    const { portalId, dealId } = parse(DealParams, request.params);
    const input = parse(
      z.object({ properties: StringRecord, userId: z.number().int().optional() }),
      request.body,
    );
    return control.editDealAsUser(portalId, dealId, input.properties, input.userId);
  });
  app.delete('/_sandbox/portals/:portalId/deals/:dealId', async (request, reply) => {
    const { portalId, dealId } = parse(DealParams, request.params);
    control.deleteDeal(portalId, dealId);
    return reply.code(204).send();
  });
  app.post('/_sandbox/portals/:portalId/deals/:dealId/stage', async (request) => {
    const { portalId, dealId } = parse(DealParams, request.params);
    const input = parse(
      z.object({ stageId: z.string().min(1), userId: z.number().int().optional() }),
      request.body,
    );
    return control.moveDealToStage(
      portalId,
      dealId,
      input.stageId,
      input.userId !== undefined ? { userId: input.userId } : {},
    );
  });
  app.post('/_sandbox/portals/:portalId/deals/:dealId/notes', async (request, reply) => {
    const { portalId, dealId } = parse(DealParams, request.params);
    const input = parse(
      z.object({ files: z.array(FileInputSchema), body: z.string().optional() }),
      request.body,
    );
    return reply
      .code(201)
      .send(
        control.attachNoteWithFiles(
          portalId,
          dealId,
          input.files,
          input.body !== undefined ? { body: input.body } : {},
        ),
      );
  });
  app.get('/_sandbox/portals/:portalId/files/:fileId/sha256', async (request) => {
    const { portalId, fileId } = parse(
      PortalIdParams.extend({ fileId: z.string().min(1) }),
      request.params,
    );
    return { sha256: await control.fileSha256(portalId, fileId) };
  });
  app.post('/_sandbox/portals/:portalId/deals/:dealId/workflow-action', async (request) => {
    const { portalId, dealId } = parse(DealParams, request.params);
    const input = parse(
      z
        .object({
          inputFields: z.record(z.string(), z.unknown()).optional(),
          callbackId: z.string().optional(),
        })
        .default({}),
      request.body ?? {},
    );
    return control.fireWorkflowAction(
      portalId,
      dealId,
      input.inputFields ?? {},
      input.callbackId !== undefined ? { callbackId: input.callbackId } : {},
    );
  });
  app.get('/_sandbox/workflow-executions', async () => ({ results: control.workflowExecutions() }));
  app.get('/_sandbox/callback-completions', async (request) => {
    const { callbackId } = parse(z.object({ callbackId: z.string().optional() }), request.query);
    return { results: control.callbackCompletions(callbackId) };
  });
  app.post('/_sandbox/webhooks/deliver', async (request) => {
    const input = parse(
      z.object({
        events: z.array(
          z.object({
            portalId: z.number().int(),
            objectId: z.union([z.number().int(), z.string()]),
            subscriptionType: z.string().optional(),
            propertyName: z.string().optional(),
            propertyValue: z.string().optional(),
            changeSource: z.string().optional(),
            sourceId: z.string().optional(),
            occurredAt: z.number().int().optional(),
            eventId: z.number().int().optional(),
            objectTypeId: z.string().optional(),
          }),
        ),
        duplicate: z.boolean().optional(),
        shuffle: z.boolean().optional(),
      }),
      request.body,
    );
    const opts = {
      ...(input.duplicate !== undefined ? { duplicate: input.duplicate } : {}),
      ...(input.shuffle !== undefined ? { shuffle: input.shuffle } : {}),
    };
    return { results: await control.deliverWebhookEvents(input.events, opts) };
  });
  app.get('/_sandbox/webhooks/deliveries', async () => ({ results: control.webhookDeliveries() }));
  app.post('/_sandbox/card-fetch', async (request) => {
    const input = parse(
      z.object({
        portalId: z.number().int(),
        userId: z.number().int(),
        userEmail: z.string(),
        method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
        url: z.url(),
        body: z.record(z.string(), z.unknown()).optional(),
        retry: z.boolean().optional(),
      }),
      request.body,
    );
    const { body, retry, ...rest } = input;
    return control.signedCardFetch({
      ...rest,
      ...(body !== undefined ? { body } : {}),
      ...(retry !== undefined ? { retry } : {}),
    });
  });
  app.post('/_sandbox/lean-answers', async (request, reply) => {
    const input = parse(z.object({ on: z.boolean() }), request.body);
    control.setLeanAnswers(input.on);
    return reply.send({ leanAnswers: input.on });
  });
  app.post('/_sandbox/search-index-delay', async (request, reply) => {
    const input = parse(z.object({ ms: z.number().int().nonnegative() }), request.body);
    control.setSearchIndexDelay(input.ms);
    return reply.send({ searchIndexDelayMs: input.ms });
  });
  app.post('/_sandbox/faults', async (request, reply) => {
    const input = parse(
      z.object({
        path: z.string().min(1),
        method: z.string().optional(),
        status: z
          .union([z.literal(429), z.literal(500), z.literal(502), z.literal(503), z.literal(504)])
          .optional(),
        hangMs: z.number().int().nonnegative().optional(),
        latencyMs: z.number().int().nonnegative().optional(),
        count: z.number().int().positive().optional(),
      }),
      request.body,
    );
    const fault = input;
    try {
      return await reply.code(201).send(control.injectFault(fault));
    } catch (error) {
      throw new SandboxControlError(error instanceof Error ? error.message : String(error), 400);
    }
  });
  app.delete('/_sandbox/faults', async (_request, reply) => {
    control.clearFaults();
    return reply.code(204).send();
  });
  app.get('/_sandbox/request-log', async (request) => {
    const { since } = parse(z.object({ since: z.coerce.number().optional() }), request.query);
    return { results: control.requestLog(since !== undefined ? { since } : {}) };
  });
  app.get('/_sandbox/token-calls', async () => ({ results: control.tokenEndpointCalls() }));
  app.post('/_sandbox/reset', async (_request, reply) => {
    control.reset();
    return reply.code(204).send();
  });
}
