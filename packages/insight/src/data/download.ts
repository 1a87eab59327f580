// Downloads one file with the global fetch, checks its sha256 while streaming, and publishes it atomically:
// the bytes go to a temporary file beside the destination, which is renamed into place only when complete
// and verified, so a crash or a bad download never leaves a half file at `dest`.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import * as path from 'node:path';

/** Why a download failed, in plain words (network cause, HTTP status or checksum). */
export class DownloadError extends Error {
  override name = 'DownloadError';
}

export interface DownloadOptions {
  /** Expected sha256 (hex); the file is rejected when it differs. */
  sha256?: string;
  /** Called as bytes arrive; total is undefined without a Content-Length. */
  onProgress?: (received: number, total: number | undefined) => void;
}

/** A short description of a fetch failure, including the low-level cause (e.g. "connect ECONNREFUSED ..."). */
function describeFetchError(err: unknown): string {
  const e = err as Error & { cause?: { message?: string; code?: string } };
  const cause = e.cause?.message ?? e.cause?.code;
  return cause && !e.message.includes(cause) ? `${e.message}: ${cause}` : e.message;
}

/** Downloads `url` to `dest` (parent folders created) and returns the file's sha256. */
export async function downloadFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<string> {
  await mkdir(path.dirname(dest), { recursive: true });
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new DownloadError(describeFetchError(err));
  }
  if (!response.ok || !response.body) {
    throw new DownloadError(`the server answered HTTP ${response.status} ${response.statusText}`.trim());
  }
  const totalHeader = Number(response.headers.get('content-length'));
  const total = Number.isFinite(totalHeader) && totalHeader > 0 ? totalHeader : undefined;
  const temp = `${dest}.download-${process.pid}-${randomBytes(4).toString('hex')}`;
  const hash = createHash('sha256');
  const file = await open(temp, 'w');
  let received = 0;
  try {
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        hash.update(chunk);
        await file.write(chunk);
        received += chunk.length;
        opts.onProgress?.(received, total);
      }
    } catch (err) {
      throw new DownloadError(`the connection failed after ${received} bytes (${describeFetchError(err)})`);
    }
    await file.sync();
    await file.close();
    if (total !== undefined && received !== total) {
      throw new DownloadError(`the download stopped after ${received} of ${total} bytes`);
    }
    const digest = hash.digest('hex');
    if (opts.sha256 && digest !== opts.sha256.toLowerCase()) {
      throw new DownloadError(`the file's sha256 is ${digest}, not the expected ${opts.sha256}`);
    }
    await rename(temp, dest);
    return digest;
  } catch (err) {
    await file.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw err;
  }
}
