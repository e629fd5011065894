/**
 * Atomic, durable file writes: the bytes go to a temporary file in the same folder, are
 * flushed to disk, and the file is renamed over the target; then the folder itself is
 * flushed, since the rename lives in the folder's entry and a power cut before that
 * reaches the disk could bring back the old file, or none. A reader sees the old file or
 * the new one, never a half-written one.
 *
 * A write killed midway leaves its temporary file, `.${name}.tmp-${pid}-${time}`. The
 * first write of a process into a folder removes those whose writer is gone (no live
 * process has its pid), so killed runs do not pile them up.
 */
import { open, rename, unlink, mkdir, readdir, readFile } from 'node:fs/promises';
import { dirname, basename, join, resolve } from 'node:path';
import { VerydeepError } from '../core/errors.js';

/** folders this process has written into, and so already cleaned */
const cleaned = new Set<string>();

/** How writeFileAtomic writes (always through a temporary file and a rename). */
export interface WriteOptions {
  /** write only if the file is missing or holds other bytes (a finished run's outputs stay untouched) */
  ifChanged?: boolean;
}

/** Writes `chunks` to `path` atomically and durably; resolves to whether it wrote (false: `ifChanged` found the same bytes). */
export async function writeFileAtomic(path: string, chunks: Uint8Array | string | (Uint8Array | string)[], options: WriteOptions = {}): Promise<boolean> {
  const folder = dirname(path);
  const tmp = join(folder, `.${basename(path)}.tmp-${process.pid}-${Date.now()}`);
  const parts = (Array.isArray(chunks) ? chunks : [chunks]).map((part) => (typeof part === 'string' ? Buffer.from(part) : part));
  if (options.ifChanged && await holds(path, parts)) return false;
  let handle;
  try {
    await mkdir(folder, { recursive: true });
    if (!cleaned.has(resolve(folder))) {
      cleaned.add(resolve(folder));
      await cleanStaleTemps(folder).catch(() => undefined); // housekeeping: the write below reports a folder we cannot use
    }
    handle = await open(tmp, 'w');
    for (const part of parts) await handle.write(part);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
  } catch (e) {
    await handle?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw new VerydeepError(`io.writeFileAtomic: could not write ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    await syncFolder(folder);
  } catch (e) {
    throw new VerydeepError(`io.writeFileAtomic: wrote ${path}, but could not flush its folder to disk: ${(e as Error).message}`, { cause: e });
  }
  return true;
}

/** whether the file at `path` holds exactly the bytes of `parts` (false if it cannot be read) */
async function holds(path: string, parts: Uint8Array[]): Promise<boolean> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch {
    return false;
  }
  if (bytes.length !== parts.reduce((n, p) => n + p.length, 0)) return false;
  let at = 0;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) if (bytes[at + i] !== part[i]) return false;
    at += part.length;
  }
  return true;
}

/**
 * fsync of a folder, so that a rename in it is on disk. Some platforms cannot open or
 * fsync a folder (Windows: EISDIR or EPERM; some file systems: EINVAL, ENOTSUP); there
 * the rename is as durable as the platform makes it, and that is not an error.
 */
async function syncFolder(folder: string): Promise<void> {
  const unsupported = new Set(['EISDIR', 'EINVAL', 'EPERM', 'EACCES', 'ENOTSUP', 'EBADF']);
  let dir;
  try {
    dir = await open(folder, 'r');
    await dir.sync();
  } catch (e) {
    if (!unsupported.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
  } finally {
    await dir?.close().catch(() => undefined);
  }
}

/** `.${name}.tmp-${pid}-${time}`: the pid that wrote it */
const TEMP_NAME = /^\..+\.tmp-(\d+)-\d+$/;

/**
 * Removes the temporary files of killed writes from `folder`: those whose writer's pid is
 * no live process (`process.kill(pid, 0)` fails with ESRCH). A temporary of this process
 * is kept (one of its writes may be under way), and so is one of a live process, or of a
 * pid this process may not signal (EPERM: alive, another user's). A dead writer's pid
 * taken since by another process keeps its file until that process ends. Returns the
 * paths removed; a missing folder has none.
 */
export async function cleanStaleTemps(folder: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new VerydeepError(`io.cleanStaleTemps: cannot read the folder ${folder}: ${(e as Error).message}`, { cause: e });
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = Number(TEMP_NAME.exec(name)?.[1]);
    if (!Number.isSafeInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    try {
      await unlink(join(folder, name));
      removed.push(join(folder, name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new VerydeepError(`io.cleanStaleTemps: cannot remove ${join(folder, name)}: ${(e as Error).message}`, { cause: e });
    }
  }
  return removed;
}

/** whether a process with this PID runs on this host (EPERM: it runs, as another user); the lock uses it too */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
