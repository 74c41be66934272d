import { z } from 'zod';

export const FileAccessSchema = z.enum([
  'HIDDEN_INDEXABLE',
  'HIDDEN_NOT_INDEXABLE',
  'HIDDEN_PRIVATE',
  'HIDDEN_SENSITIVE',
  'PRIVATE',
  'PUBLIC_INDEXABLE',
  'PUBLIC_NOT_INDEXABLE',
  'SENSITIVE',
]);
export type FileAccess = z.infer<typeof FileAccessSchema>;

/** `File`: `GET /files/{v}/files/{fileId}`. `name` excludes the extension. */
export const FileMetadataSchema = z.object({
  id: z.string(),
  name: z.string().optional(),
  extension: z.string().optional(),
  type: z.string().optional(),
  size: z.number().int().nonnegative().optional(),
  access: FileAccessSchema.optional(),
  url: z.string().optional(),
  path: z.string().optional(),
  parentFolderId: z.string().optional(),
  encoding: z.string().optional(),
  fileMd5: z.string().optional(),
  isUsableInContent: z.boolean().optional(),
  sourceGroup: z.string().optional(),
  /** Absent = not archived. */
  archived: z.boolean().optional(),
});
export type FileMetadata = z.infer<typeof FileMetadataSchema>;

/** `SignedUrl`: `GET /files/{v}/files/{fileId}/signed-url`. */
export const SignedUrlSchema = z.object({
  url: z.string(),
  size: z.number().int().nonnegative().optional(),
});
export type SignedUrl = z.infer<typeof SignedUrlSchema>;
