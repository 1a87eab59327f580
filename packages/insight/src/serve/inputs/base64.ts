// Base64 image payloads ({"b64": "..."} in TF Serving JSON, BYTES elements in KServe v2). Node's decoder
// silently skips invalid characters, so the alphabet is checked first (standard or URL-safe, optional padding).
import { serveError } from '../../errors';

const BASE64 = /^(?:[A-Za-z0-9+/]|[A-Za-z0-9_-])*={0,2}$/;

/** Decodes `text`; `where` names it in the error. */
export function decodeBase64(text: unknown, where: string): Buffer {
  if (typeof text !== 'string' || text.length === 0 || !BASE64.test(text)) {
    throw serveError('SERVE_E_BAD_INPUT', `${where} must be a non-empty base64 string of an encoded image.`,
      { [where]: typeof text === 'string' ? `string(${text.length}) ${text.slice(0, 16)}` : typeof text },
      'Encode the image file\'s bytes with standard or URL-safe base64 (e.g. `base64 -w0 cat.jpg`), without a data: prefix.');
  }
  return Buffer.from(text, 'base64');
}
