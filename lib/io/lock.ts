/**
 * The output folder of a training run: checked before any work, created, and locked for
 * the whole run, so that two runs given one folder cannot overwrite each other's
 * checkpoints (the second refuses, naming the first's PID).
 *
 * The lock is proper-lockfile's: the folder `.verydeep-run.lock`, made by mkdir (atomic),
 * whose mtime the holder renews every few seconds. proper-lockfile records no owner, so
 * the holder writes its PID into `.verydeep-run` beside it. A run killed with SIGKILL
 * leaves both behind; the next run finds the recorded PID gone and takes the lock over at
 * once, rather than waiting for the mtime to go stale (which still frees a lock whose PID
 * file was never written, or that belongs to another host).
 */
import { accessSync, constants, lstatSync, mkdirSync, readFileSync, rmSync, statSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { hostname } from 'node:os';
import lockfile from 'proper-lockfile';
import { DataError, LockError, messageOf } from '../core/errors.js';
import { isAlive } from './atomic.js';

/** the file that names the run holding the folder; the lock itself is this name + '.lock' */
export const RUN_FILE = '.verydeep-run';

/** a lock whose mtime was not renewed for this long is free to take, whoever holds it */
const STALE_MS = 10_000;
/** how often the holder renews it */
const UPDATE_MS = STALE_MS / 2;

/**
 * File systems that are not storage: a folder there cannot hold a run (and Node's
 * recursive mkdir never returns under /proc). By statfs f_type, from linux/magic.h.
 */
const PSEUDO_FILE_SYSTEMS: Record<number, string> = {
  0x9fa0: 'proc', 0x62656572: 'sysfs', 0x1cd1: 'devpts', 0x27e0eb: 'cgroup', 0x63677270: 'cgroup2', 0x64626720: 'debugfs',
  0x74726163: 'tracefs', 0x73636673: 'securityfs', 0xcafe4a11: 'bpf', 0x6165676c: 'pstore', 0x62656570: 'configfs',
  0x65735543: 'fusectl', 0xde5e81e4: 'efivarfs', 0x42494e4d: 'binfmt_misc', 0x19800202: 'mqueue',
};

/** the path itself or its nearest ancestor that exists, and whether it is a folder (or a link to one) */
function nearestExisting(path: string): { path: string; isDirectory: boolean } {
  for (let p = resolve(path); ; p = dirname(p)) {
    try {
      return { path: p, isDirectory: statSync(p).isDirectory() };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || p === dirname(p)) throw e;
    }
  }
}

/**
 * What is wrong with `dir` as an output folder, or null: checked without creating
 * anything. Its nearest existing ancestor (the folder itself, if it exists) must be a
 * folder, on a real file system, that this process may write.
 */
export function outputFolderProblem(dir: string): string | null {
  let near;
  try {
    near = nearestExisting(dir);
  } catch (e) {
    return `cannot look at it: ${messageOf(e)}`;
  }
  if (!near.isDirectory) return near.path === resolve(dir) ? 'it exists and is not a folder' : `${near.path} is not a folder`;
  let type: number;
  try {
    type = Number(statfsSync(near.path).type);
  } catch (e) {
    return `cannot look at the file system of ${near.path}: ${messageOf(e)}`;
  }
  if (PSEUDO_FILE_SYSTEMS[type]) return `${near.path} is on ${PSEUDO_FILE_SYSTEMS[type]}, a pseudo file system that cannot hold files`;
  try {
    accessSync(near.path, constants.W_OK | constants.X_OK);
  } catch {
    return `${near.path} is not writable`;
  }
  return null;
}

/** Creates `dir` and its missing parents one level at a time (see PSEUDO_FILE_SYSTEMS for why not `recursive`). */
export function makeFolder(dir: string): void {
  const missing: string[] = [];
  for (let p = resolve(dir); ; p = dirname(p)) {
    try {
      lstatSync(p);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || p === dirname(p)) throw e;
      missing.push(p);
    }
  }
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; // made meanwhile by another run
    }
  }
}

interface Owner {
  pid: number;
  host: string;
  started: string;
}

function readOwner(file: string): Owner | null {
  try {
    const o = JSON.parse(readFileSync(file, 'utf8'));
    return Number.isInteger(o?.pid) ? o : null;
  } catch {
    return null;
  }
}


export interface FolderLock {
  readonly dir: string;
  /** set if the lock was lost while held (its lock folder removed, or not renewed in time) */
  readonly lost: Error | null;
  /** Frees the folder (removes the PID file and the lock); does nothing the second time. */
  release(): Promise<void>;
}

export interface LockOptions {
  /** starts every error message, e.g. 'verydeep train: --out runs/x' (default 'lockFolder: <dir>') */
  what?: string;
  /** told of a stale lock taken over, and of a lock lost while held */
  log?: (line: string) => void;
  /** milliseconds between renewals of the lock's mtime (default 5000; at least 1000) */
  updateMs?: number;
}

/**
 * Creates `dir` (level by level) and locks it for this process; writing the PID file
 * proves the folder writable. Throws a LockError naming the holder's PID if another live
 * run holds it, a DataError if the folder cannot be made or written.
 */
export async function lockFolder(dir: string, options: LockOptions = {}): Promise<FolderLock> {
  const what = options.what ?? `lockFolder: ${dir}`;
  const log = options.log ?? (() => {});
  try {
    makeFolder(dir);
  } catch (e) {
    throw new DataError(`${what}: cannot create the folder: ${messageOf(e)}`, { cause: e });
  }
  const runFile = join(dir, RUN_FILE);
  const state: { lost: Error | null; released: boolean } = { lost: null, released: false };
  const onCompromised = (e: Error) => {
    // proper-lockfile's default throws from a timer, which would end the process with no sentence
    state.lost = e;
    log(`warning: ${what}: lost the lock on the folder (${e.message}); another run may now write there`);
  };
  let unlock: () => Promise<void>;
  for (let attempt = 0; ; attempt++) {
    try {
      unlock = await lockfile.lock(runFile, { realpath: false, stale: STALE_MS, update: options.updateMs ?? UPDATE_MS, onCompromised });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw new DataError(`${what}: cannot lock the folder: ${messageOf(e)}`, { cause: e });
      const owner = await ownerOf(runFile);
      if (attempt === 0 && owner && owner.host === hostname() && !isAlive(owner.pid)) {
        log(`${what}: the run that held it (PID ${owner.pid}, started ${owner.started}) is no longer running; taking its lock over`);
        rmSync(`${runFile}.lock`, { recursive: true, force: true });
        continue;
      }
      const holder = owner ? `PID ${owner.pid}${owner.host === hostname() ? '' : ` on ${owner.host}`}, started ${owner.started}` : 'its PID is not recorded';
      throw new LockError(`${what}: the folder is in use by another run (${holder}); wait for it to end, or choose another folder`, { cause: e });
    }
  }
  try {
    writeFileSync(runFile, JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString() }) + '\n');
  } catch (e) {
    await unlock().catch(() => undefined);
    throw new DataError(`${what}: the folder is not writable: ${messageOf(e)}`, { cause: e });
  }
  return {
    dir,
    get lost() { return state.lost; },
    async release() {
      if (state.released) return;
      state.released = true;
      if (readOwner(runFile)?.pid === process.pid) {
        try {
          unlinkSync(runFile);
        } catch {
          // already gone: the lock below is what matters
        }
      }
      if (!state.lost) await unlock().catch(() => undefined);
    },
  };
}

/**
 * The holder recorded beside a held lock. A holder that has just taken the lock may not
 * have written its PID yet, and a record older than the lock folder is a previous run's
 * (one stopped by a signal, whose lock was removed on exit but not its record): wait a
 * little for the current one.
 */
async function ownerOf(runFile: string): Promise<Owner | null> {
  for (let i = 0; i < 10; i++) {
    const born = statSync(`${runFile}.lock`, { throwIfNoEntry: false })?.birthtimeMs ?? 0;
    const written = statSync(runFile, { throwIfNoEntry: false })?.mtimeMs ?? -1;
    const owner = written >= born ? readOwner(runFile) : null;
    if (owner) return owner;
    await new Promise((r) => setTimeout(r, 50));
  }
  return null;
}
