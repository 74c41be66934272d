import fastifyMultipart from '@fastify/multipart';
import fastifySwagger from '@fastify/swagger';
import type { FastifyPluginAsync } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { openContractFileStream } from '../core/contracts/contract-files.ts';
import { uploadReviewedFile } from '../core/contracts/reviewed-files.ts';
import { DEFAULT_IMPORT_MAX_FILE_BYTES } from '../platform/config/env.ts';
import { readFilePart } from '../platform/http/multipart-file.ts';
import {
  changeContractStatus,
  getContractDetail,
  listContracts,
  type ContractStatusHooks,
} from '../core/contracts/contracts-service.ts';
import { ErrorEnvelopeSchema } from '../platform/http/schemas.ts';
import { restApiOpenapi } from './openapi.ts';
import { apiActor, apiPrincipal, requireApiKey } from './auth.ts';
import {
  attachmentDisposition,
  presentContract,
  presentContractDetail,
  presentContractFile,
} from './presenters.ts';
import {
  ContractDetailSchema,
  ContractFileParamsSchema,
  ContractFileSchema,
  UploadFileQuerySchema,
  ContractListSchema,
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

/** Every error the API answers has the same envelope; 401s also send `WWW-Authenticate`. */
const ERRORS = { '4xx': ErrorEnvelopeSchema, '5xx': ErrorEnvelopeSchema } as const;

/**
 * The LexiContract REST API (SPEC §5), registered under `/api/v1`, and its OpenAPI document
 * at `/api/v1/openapi.json`. Swagger is registered in this plugin, so its route collector
 * sees only the routes below: the HubSpot-facing and web routes stay out of the document.
 */
export const lexiContractApi: FastifyPluginAsync<LexiContractApiOptions> = async (app, opts) => {
  // JSON bodies only: the app-wide form and text parsers stop here, so a form-encoded
  // (cross-site postable) or text body is a 415 before any handler runs.
  app.removeContentTypeParser(['application/x-www-form-urlencoded', 'text/plain']);

  await app.register(fastifySwagger, restApiOpenapi(app.config.publicBaseUrl));

  // Public: the document describes the API, it holds no organization's data.
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  // Not `opts` itself: it carries this plugin's `prefix`, which would apply twice.
  await app.register(contractRoutes, { contractHooks: opts.contractHooks });
  await app.register(fileUploadRoutes);
};

/**
 * Legal's upload of a reviewed version (issue 15 item 1), in its own scope: only here is
 * `multipart/form-data` parsed, and only as a stream (the file part is never buffered whole).
 */
const fileUploadRoutes: FastifyPluginAsyncZod = async (app) => {
  requireApiKey(app);
  await app.register(fastifyMultipart, { limits: { files: 1 } });
  const maxBytes = app.config.importMaxFileBytes ?? DEFAULT_IMPORT_MAX_FILE_BYTES;

  app.post(
    '/contracts/:id/files',
    {
      schema: {
        summary:
          'Upload a reviewed version of a contract file (multipart/form-data, one `file` part)',
        description:
          'The new file replaces `replaces_file_id`, or by default the contract’s newest file. ' +
          'Same checks as the import: PDF, DOCX, DOC, RTF or TXT by name and first bytes ' +
          '(415 `file_type_not_allowed`), the import size cap (413 `file_too_large`). ' +
          'A non-multipart body is a 415, a missing or misnamed part a 400. Identical bytes ' +
          'already on the contract answer 200 with the existing file.',
        tags: ['contracts'],
        consumes: ['multipart/form-data'],
        params: ContractParamsSchema,
        querystring: UploadFileQuerySchema,
        response: { 200: ContractFileSchema, 201: ContractFileSchema, ...ERRORS },
      },
    },
    async (request, reply) => {
      const principal = apiPrincipal(request);
      const part = await readFilePart(request, { partName: 'file', maxBytes });
      const stored = await uploadReviewedFile(
        app.db,
        {
          organizationId: principal.organizationId,
          contractId: request.params.id,
          fileName: part.fileName,
          ...(request.query.replaces_file_id !== undefined
            ? { replacesFileId: request.query.replaces_file_id }
            : {}),
          actor: apiActor(principal),
          maxBytes,
        },
        part.bytes,
      );
      return reply.status(stored.duplicate ? 200 : 201).send(presentContractFile(stored.file));
    },
  );
};

/**
 * Every route needs an organization API key and sees only that organization's contracts:
 * another organization's contract or file is a 404, exactly like one that does not exist.
 */
const contractRoutes: FastifyPluginAsyncZod<LexiContractApiOptions> = async (app, opts) => {
  requireApiKey(app);

  app.get(
    '/contracts',
    {
      schema: {
        summary: 'List the organization’s contracts, newest first',
        tags: ['contracts'],
        querystring: ListContractsQuerySchema,
        response: { 200: ContractListSchema, ...ERRORS },
      },
    },
    async (request) => {
      const principal = apiPrincipal(request);
      const query = request.query;
      const page = await listContracts(app.db, principal.organizationId, {
        externalId: query.external_id,
        externalSource: query.external_source,
        status: query.status,
        limit: query.limit,
        cursor: query.cursor,
      });
      return { data: page.items.map(presentContract), next_cursor: page.nextCursor };
    },
  );

  app.get(
    '/contracts/:id',
    {
      schema: {
        summary: 'One contract with its files, source snapshot and status history',
        tags: ['contracts'],
        params: ContractParamsSchema,
        response: { 200: ContractDetailSchema, ...ERRORS },
      },
    },
    async (request) => {
      const principal = apiPrincipal(request);
      const { id } = request.params;
      return presentContractDetail(await getContractDetail(app.db, principal.organizationId, id));
    },
  );

  app.patch(
    '/contracts/:id',
    {
      schema: {
        summary: 'Change the negotiation status (409 `invalid_status_transition` if not allowed)',
        tags: ['contracts'],
        params: ContractParamsSchema,
        body: PatchContractBodySchema,
        response: { 200: ContractDetailSchema, ...ERRORS },
      },
    },
    async (request) => {
      const principal = apiPrincipal(request);
      const { id } = request.params;
      await changeContractStatus(
        app.db,
        {
          organizationId: principal.organizationId,
          contractId: id,
          to: request.body.negotiation_status,
          source: 'api',
          actor: apiActor(principal),
        },
        opts.contractHooks,
      );
      return presentContractDetail(await getContractDetail(app.db, principal.organizationId, id));
    },
  );

  app.get(
    '/contracts/:id/files/:fileId/content',
    {
      schema: {
        summary: 'The file’s bytes, streamed, with its stored Content-Type',
        tags: ['contracts'],
        params: ContractFileParamsSchema,
        response: {
          200: {
            description: 'The bytes; `ETag` and `X-Content-SHA256` carry their SHA-256',
            // `any`: the handler sends a stream, which Fastify writes out unserialized.
            content: { '*/*': { schema: z.any().meta({ type: 'string', format: 'binary' }) } },
          },
          304: z.undefined().describe('Not modified (`If-None-Match` matched the ETag)'),
          ...ERRORS,
        },
      },
    },
    async (request, reply) => {
      const principal = apiPrincipal(request);
      const { id, fileId } = request.params;
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
    },
  );
};
