/**
 * What the interop suites share: whether Debian's python3-torch, python3-torchvision and
 * python3-onnx are here (/usr/bin/python3, which has them; `python3` on PATH may be another
 * interpreter), running a script under it, and the skip rule: where they are missing, a
 * test says `# skipped ...` and passes, unless VERYDEEP_REQUIRE_INTEROP=1 (CI), where it
 * fails. Fixtures are written under test-results/interop/ (ignored; hundreds of MB at full
 * size), which each suite makes and cleans itself.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Test } from 'tape';

export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
export const INTEROP_DIR = join('test-results', 'interop');
const execFileAsync = promisify(execFile);

let cached: string | null | undefined;

/** why the Python side cannot run here, or null when torch, torchvision and onnx import */
export function missingPython(): string | null {
  if (cached !== undefined) return cached;
  const r = spawnSync(PYTHON, ['-c', 'import torch, torchvision, onnx; print(torch.__version__, torchvision.__version__, onnx.__version__)'], { encoding: 'utf8' });
  cached = r.status === 0 ? null
    : `${PYTHON} cannot import torch, torchvision and onnx (Debian: python3-torch python3-torchvision python3-onnx; scripts/setup.mjs installs them as root): ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
  return cached;
}

/** the versions found, for the log: 'torch 1.13.0a0, torchvision 0.14.1a0, onnx 1.12.0' */
export function pythonVersions(): string {
  const r = spawnSync(PYTHON, ['-c', 'import torch, torchvision, onnx; print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, onnx {onnx.__version__}")'], { encoding: 'utf8' });
  return r.stdout.trim();
}

/**
 * True when the Python side can run. Otherwise ends nothing: it records a `skipped` comment
 * (or, with VERYDEEP_REQUIRE_INTEROP=1, a failure) on `t`, and the caller returns.
 */
export function interopAvailable(t: Test): boolean {
  const missing = missingPython();
  if (!missing) return true;
  if (process.env.VERYDEEP_REQUIRE_INTEROP === '1') t.fail(`VERYDEEP_REQUIRE_INTEROP=1 but ${missing}`);
  else t.comment(`skipped: ${missing}`);
  return false;
}

/** the folder for a suite's fixtures, made if missing */
export function interopDir(name: string): string {
  const dir = join(INTEROP_DIR, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Runs `/usr/bin/python3 script ...args` and resolves to its stdout; a failure rejects
 * with the last lines of its stderr. One torch thread per process unless told otherwise
 * (the machine is shared and small), and no CUDA probing.
 */
export async function runPython(script: string, args: string[], options: { timeoutS?: number; env?: Record<string, string> } = {}): Promise<string> {
  try {
    const { stdout } = await execFileAsync(PYTHON, [script, ...args], {
      env: { ...process.env, OMP_NUM_THREADS: '2', CUDA_VISIBLE_DEVICES: '', PYTHONDONTWRITEBYTECODE: '1', ...options.env },
      timeout: (options.timeoutS ?? 600) * 1000, maxBuffer: 64 << 20,
    });
    return stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string; code?: number | string; signal?: string };
    throw new Error(`${script} ${args.join(' ')} exited with ${err.signal ?? err.code}: ${(err.stderr ?? err.message).split('\n').filter((l) => l.trim()).slice(-20).join('\n')}`);
  }
}

/** max|a − b| / max|b|: the relative max error the interop checks hold to 1e-4 */
export function relMaxError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

/** Figures a suite measured, printed by the runner at the end ('# interop: ...' lines) for the closing note. */
export const interopFigures: string[] = [];
