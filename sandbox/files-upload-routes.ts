import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';

import { hubspotError, notFound, validationError } from './errors.ts';
import type { SandboxRuntime } from './runtime.ts';
import { iso, type FileRecord } from './state.ts';
import { CrmObjectCreateInputSchema, FileUploadOptionsSchema, type CrmObject } from './wire.ts';

/**
 * HubSpot's Files upload (`POST /files/2026-03/files`, multipart: `file`, `fileName`,
 * `folderPath` or `folderId`, `options` JSON with the required `access`) and note creation
 * with associations (`POST /crm/objects/2026-03/notes`), from HubSpot's documentation. The
 * uploaded bytes are kept as sent, so the signed-url download returns them byte-identical.
 */
const FILES_WRITE = ['files', 'files.write', 'files.ui_hidden.write'];
const NOTES_WRITE = ['crm.objects.contacts.write'];
/** HubSpot-defined note → deal association type. */
const NOTE_TO_DEAL_TYPE_ID = 214;
const MAX_UPLOAD_BYTES = 512 * 1024 * 1024;

export async function filesUploadRoutes(app: FastifyInstance, runtime: SandboxRuntime) {
  const state = runtime.state;
  await app.register(async (scope) => {
    await scope.register(fastifyMultipart, {
      limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 10 },
    });

    scope.post('/files/:version/files', async (request, reply) => {
      const { portal } = runtime.authenticate(request, reply, FILES_WRITE);
      if (!request.isMultipart()) {
        throw hubspotError(415, 'VALIDATION_ERROR', 'Content type must be multipart/form-data');
      }
      const fields: Record<string, string> = {};
      let upload: { fileName: string; mimetype: string; bytes: Buffer } | undefined;
      for await (const part of request.parts()) {
        if (part.type === 'file') {
          if (part.fieldname !== 'file') {
            part.file.resume();
            throw validationError(`Unexpected file part ${part.fieldname}`);
          }
          upload = {
            fileName: part.filename,
            mimetype: part.mimetype,
            bytes: await part.toBuffer(),
          };
        } else if (typeof part.value === 'string') {
          fields[part.fieldname] = part.value;
        }
      }
      if (!upload) throw validationError('file is required');
      if (fields.folderPath === undefined && fields.folderId === undefined) {
        throw validationError('Either folderId or folderPath is required');
      }
      if (fields.options === undefined) throw validationError('options is required');
      let rawOptions: unknown;
      try {
        rawOptions = JSON.parse(fields.options);
      } catch {
        throw validationError('options must be valid JSON');
      }
      const options = FileUploadOptionsSchema.safeParse(rawOptions);
      if (!options.success) {
        throw validationError(
          `Invalid options: ${options.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
      }
      const folderPath = fields.folderPath ?? `/folder-${fields.folderId ?? ''}`;
      const fileName = fields.fileName ?? upload.fileName;
      const existing = [...portal.files.values()].find(
        (f) => f.folderPath === folderPath && f.fileName === fileName,
      );
      if (existing && options.data.overwrite === true) {
        existing.content = upload.bytes;
        existing.size = upload.bytes.length;
        return reply.code(201).send(uploadedMetadata(existing));
      }
      const file = state.addFile(
        portal,
        { name: fileName, kind: 'bytes', sizeBytes: upload.bytes.length, text: '', seed: fileName },
        upload.bytes.length,
        {
          contentType: upload.mimetype,
          access: options.data.access,
          content: upload.bytes,
          folderPath,
        },
      );
      return reply.code(201).send(uploadedMetadata(file));
    });
  });

  function uploadedMetadata(file: FileRecord) {
    return {
      id: file.id,
      name: file.name,
      extension: file.extension,
      type: 'DOCUMENT',
      size: file.size,
      access: file.access,
      path: `${file.folderPath ?? ''}/${file.fileName}`,
      parentFolderId: '1',
      url: `${runtime.origin}/hubfs/${file.portalId}/${encodeURIComponent(file.fileName)}`,
      isUsableInContent: false,
      sourceGroup: 'CONTENT' as const,
      createdAt: iso(file.createdAt),
      updatedAt: iso(state.now()),
      archived: false,
    };
  }

  app.post('/crm/objects/:version/notes', async (request, reply) => {
    const { portal } = runtime.authenticate(request, reply, NOTES_WRITE);
    const parsed = CrmObjectCreateInputSchema.safeParse(request.body);
    if (!parsed.success) {
      throw validationError(
        'Invalid input JSON on line 1: ' +
          parsed.error.issues
            .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
            .join('; '),
      );
    }
    const input = parsed.data;
    if (input.properties.hs_timestamp === undefined) {
      throw validationError('Property values were not valid: hs_timestamp is required');
    }
    const attachmentIds = (input.properties.hs_attachment_ids ?? '')
      .split(';')
      .filter((id) => id.length > 0);
    for (const id of attachmentIds) {
      if (!portal.files.has(id)) throw validationError(`File ${id} does not exist`);
    }
    const deals = input.associations.map((association) => {
      const type = association.types[0];
      if (
        association.types.length !== 1 ||
        type?.associationCategory !== 'HUBSPOT_DEFINED' ||
        type.associationTypeId !== NOTE_TO_DEAL_TYPE_ID
      ) {
        throw hubspotError(
          400,
          'VALIDATION_ERROR',
          'The sandbox supports only the note → deal association (HUBSPOT_DEFINED 214)',
        );
      }
      const deal = portal.deals.get(association.to.id);
      if (!deal) throw notFound(`deal ${association.to.id} not found`);
      return deal;
    });
    const [first, ...others] = deals;
    if (!first) throw validationError('The sandbox creates notes associated with a deal only');
    const note = state.addNote(portal, first, input.properties.hs_note_body ?? '', attachmentIds);
    for (const deal of others) deal.noteIds.push(note.id);
    for (const [key, value] of Object.entries(input.properties)) note.properties.set(key, value);
    const body: CrmObject = {
      id: note.id,
      properties: Object.fromEntries(note.properties),
      createdAt: iso(note.createdAt),
      updatedAt: iso(note.updatedAt),
      archived: false,
    };
    return reply.code(201).send(body);
  });
}
