import type { FastifyPluginAsync } from 'fastify';

import { openContractFileStream } from '../core/contracts/contract-files.ts';
import {
  changeContractStatus,
  getContractDetail,
  listContracts,
  type ContractStatusHooks,
} from '../core/contracts/contracts-service.ts';
import { parseInput } from '../platform/http/validation.ts';
import { apiActor, apiPrincipal, requireApiKey } from './auth.ts';
import { attachmentDisposition, presentContract, presentContractDetail } from './presenters.ts';
import {
  ContractFileParamsSchema,
  ContractParamsSchema,
  ListContractsQuerySchema,
  PatchContractBodySchema,
} from './schemas.ts';

export interface LexiContractApiOptions {
  /**
   * Runs inside every status-change transaction made through this API; the composition
   * root passes the CRM sync's outbox writer here so the sync commits with the change.
   */
  readonly contractHooks?: ContractStatusHooks;
}

/**
 * The LexiContract REST API (SPEC §5), registered under `/api/v1`. Every route needs an
 * organization API key and sees only that organization's contracts: another organization's
 * contract or file is a 404, exactly like one that does not exist.
 */
export const lexiContractApi: FastifyPluginAsync<LexiContractApiOptions> = async (app, opts) => {
  requireApiKey(app);

  app.get('/contracts', async (request) => {
    const principal = apiPrincipal(request);
    const query = parseInput(ListContractsQuerySchema, request.query, 'query parameters');
    const page = await listContracts(app.db, principal.organizationId, {
      externalId: query.external_id,
      externalSource: query.external_source,
      status: query.status,
      limit: query.limit,
      cursor: query.cursor,
    });
    return { data: page.items.map(presentContract), next_cursor: page.nextCursor };
  });

  app.get('/contracts/:id', async (request) => {
    const principal = apiPrincipal(request);
    const { id } = parseInput(ContractParamsSchema, request.params, 'path parameters');
    return presentContractDetail(await getContractDetail(app.db, principal.organizationId, id));
  });

  app.patch('/contracts/:id', async (request) => {
    const principal = apiPrincipal(request);
    const { id } = parseInput(ContractParamsSchema, request.params, 'path parameters');
    const body = parseInput(PatchContractBodySchema, request.body, 'request body');
    await changeContractStatus(
      app.db,
      {
        organizationId: principal.organizationId,
        contractId: id,
        to: body.negotiation_status,
        source: 'api',
        actor: apiActor(principal),
      },
      opts.contractHooks,
    );
    return presentContractDetail(await getContractDetail(app.db, principal.organizationId, id));
  });

  app.get('/contracts/:id/files/:fileId/content', async (request, reply) => {
    const principal = apiPrincipal(request);
    const { id, fileId } = parseInput(ContractFileParamsSchema, request.params, 'path parameters');
    const { file, stream } = await openContractFileStream(
      app.db,
      principal.organizationId,
      id,
      fileId,
    );
    const etag = `"${file.sha256}"`;
    void reply
      .header('etag', etag)
      .header('x-content-sha256', file.sha256)
      .header('cache-control', 'private, no-cache')
      .header('x-content-type-options', 'nosniff');
    const ifNoneMatch = request.headers['if-none-match'];
    if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((t) => t.trim() === etag)) {
      stream.destroy();
      return reply.status(304).send();
    }
    return reply
      .header('content-type', file.contentType)
      .header('content-length', String(file.sizeBytes))
      .header('content-disposition', attachmentDisposition(file.name))
      .send(stream);
  });
};
