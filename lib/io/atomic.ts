/**
 * Atomic file writes: the bytes go to a temporary file in the same folder, are flushed to
 * disk, and the file is renamed over the target. A reader sees the old file or the new
 * one, never a half-written one; a crash leaves at most a stray `.tmp-*` file.
 */
import { open, rename, unlink, mkdir } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';

export async function writeFileAtomic(path: string, chunks: Uint8Array | string | (Uint8Array | string)[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now()}`);
  const parts = Array.isArray(chunks) ? chunks : [chunks];
  let handle;
  try {
    handle = await open(tmp, 'w');
    for (const part of parts) await handle.write(typeof part === 'string' ? Buffer.from(part) : part);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
  } catch (e) {
    await handle?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw new Error(`writeFileAtomic: could not write ${path}: ${(e as Error).message}`);
  }
}
