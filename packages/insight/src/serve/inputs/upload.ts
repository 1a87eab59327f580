// Image uploads: the raw body (Content-Type image/jpeg, image/png, image/webp, image/gif or
// application/octet-stream; parsed to a Buffer by the server's content-type parser) is one image; a
// multipart/form-data body may carry up to --max-instances files (any field names; other fields are ignored).
// Multipart limits (file size, file count = --max-instances, part count) are enforced while streaming by
// @fastify/multipart (registered in http/server.ts). A limit hit while a file streams surfaces as that file's
// "Premature close": counted here, it is the 413 it is. The error handler then drains or closes the unread rest.
import type { FastifyRequest } from 'fastify';

import { serveError } from '../../errors';
import type { Instance } from './instances';

export const IMAGE_CONTENT_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'application/octet-stream'];
/** Non-file fields a multipart upload may have (they are ignored). */
export const MULTIPART_FIELDS = 16;

export interface Upload {
  instances: Instance[];
  /** File names of multipart parts (null for a raw body). */
  names: (string | null)[];
}

/** The images of an upload request, in order. `maxFiles`: --max-instances. */
export async function readUpload(request: FastifyRequest, maxFiles = Infinity): Promise<Upload> {
  if (request.isMultipart()) {
    const instances: Instance[] = [];
    const names: (string | null)[] = [];
    let fields = 0;
    try {
      for await (const part of request.parts()) {
        if (part.type !== 'file') {
          fields++;
          continue;
        }
        const bytes = await part.toBuffer();
        instances.push({ kind: 'image', bytes, where: `file "${part.filename || part.fieldname}"` });
        names.push(part.filename || null);
      }
    } catch (error) {
      // Limit errors (FST_*) are mapped by the error handler; anything else is a broken body.
      if (String((error as { code?: unknown }).code ?? '').startsWith('FST_')) throw error;
      if (fields >= MULTIPART_FIELDS || instances.length >= maxFiles) {
        throw serveError('SERVE_E_PAYLOAD_TOO_LARGE', `A multipart upload may have at most --max-instances files and ${MULTIPART_FIELDS} other fields.`,
          { limit: fields >= MULTIPART_FIELDS ? 'fields' : 'files' }, 'Split the images over several requests.');
      }
      throw serveError('SERVE_E_BAD_INPUT', 'A multipart body must be complete and well-formed.', { error: (error as Error).message },
        'Send a whole multipart/form-data body, e.g. `curl -F image=@cat.jpg ...`.');
    }
    if (instances.length === 0) {
      throw serveError('SERVE_E_BAD_INPUT', 'A multipart upload must contain at least one file part.', { files: 0 },
        'Send e.g. `curl -F image=@cat.jpg ...`.');
    }
    return { instances, names };
  }
  if (Buffer.isBuffer(request.body)) {
    return { instances: [{ kind: 'image', bytes: request.body, where: 'body' }], names: [null] };
  }
  throw serveError('SERVE_E_UNSUPPORTED_MEDIA', `Image routes take the image bytes as the body (Content-Type ${IMAGE_CONTENT_TYPES.join(', ')}) or multipart/form-data.`,
    { 'content-type': request.headers['content-type'] ?? null },
    'Send e.g. `curl --data-binary @cat.jpg -H "Content-Type: image/jpeg" ...`; JSON clients use :predict with {"b64": ...}.');
}
