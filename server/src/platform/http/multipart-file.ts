import type { FastifyRequest } from 'fastify';
import type { MultipartFile } from '@fastify/multipart';

import { DomainError } from '../errors.ts';

/**
 * Reads the one file part of a `multipart/form-data` request as a stream (never buffered
 * whole), for routes that registered `@fastify/multipart` in their own scope. Errors of the
 * request body itself (a malformed part, the size cap) are told apart from the consumer's
 * (e.g. the database), so a broken upload is a 4xx and a failing store still a 500.
 */
export class NotMultipartError extends DomainError {
  constructor() {
    super('unsupported_media_type', 'Send the file as multipart/form-data', 415);
  }
}

export class InvalidFilePartError extends DomainError {
  constructor(message: string) {
    super('invalid_file_part', message, 400);
  }
}

export class UploadTooLargeError extends DomainError {
  constructor(maxBytes: number) {
    super('file_too_large', `The file exceeds the limit of ${maxBytes} bytes`, 413, {
      max_bytes: maxBytes,
    });
  }
}

export interface MultipartFileUpload {
  readonly fileName: string;
  /** Text fields sent before the file part (e.g. a form's `_csrf`). */
  readonly fields: Readonly<Record<string, string>>;
  readonly bytes: AsyncIterable<Buffer>;
}

function isMultipartLimitError(error: unknown): error is { code: string } {
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'string' &&
    error.code.startsWith('FST_')
  );
}

export async function readFilePart(
  request: FastifyRequest,
  options: { readonly partName: string; readonly maxBytes: number },
): Promise<MultipartFileUpload> {
  if (!request.isMultipart()) throw new NotMultipartError();
  let part: MultipartFile | undefined;
  try {
    part = await request.file({
      // One byte over the cap reaches the consumer, whose own check refuses it.
      limits: { fileSize: options.maxBytes + 1, files: 1, fields: 10, fieldSize: 1024 },
    });
  } catch (error) {
    throw new InvalidFilePartError(
      `The multipart body could not be read: ${error instanceof Error ? error.message : 'unknown error'}`,
    );
  }
  if (!part) throw new InvalidFilePartError(`No file part named "${options.partName}"`);
  if (part.fieldname !== options.partName) {
    part.file.resume();
    throw new InvalidFilePartError(
      `The file part must be named "${options.partName}", not "${part.fieldname}"`,
    );
  }
  const fields: Record<string, string> = {};
  for (const [name, field] of Object.entries(part.fields)) {
    const one = Array.isArray(field) ? field[0] : field;
    if (one && one.type === 'field' && typeof one.value === 'string') fields[name] = one.value;
  }
  const stream = part.file;
  const maxBytes = options.maxBytes;
  async function* bytes(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of stream) yield chunk as Buffer;
    } catch (error) {
      if (isMultipartLimitError(error) && error.code === 'FST_REQ_FILE_TOO_LARGE') {
        throw new UploadTooLargeError(maxBytes);
      }
      throw new InvalidFilePartError(
        `The file part could not be read: ${error instanceof Error ? error.message : 'unknown error'}`,
      );
    }
  }
  return { fileName: part.filename, fields, bytes: bytes() };
}
