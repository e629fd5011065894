/**
 * The crash test (issue 12, "nothing is lost"): `verydeep train` is killed with SIGKILL at
 * chosen moments of a small run; after each kill every file in the output folder must be
 * complete and readable; the run is then resumed (`--resume`, or restarted without it when
 * no checkpoint was written yet) until it finishes, and its final files must equal those
 * of an uninterrupted run: every tensor bit for bit, every metadata field but the epochs'
 * wall-clock `seconds` and the run's own `out` and `resume` flags.
 *
 *   node dist/scripts/crash-test.js [--backend wasm] [--keep]
 *
 * A moment is a line of the child's output (an epoch's first progress line; its last step,
 * which starts the validation pass; its result line, after which the checkpoint,
 * history.json and curves.svg are written, and after the last epoch's, model.safetensors
 * and labels.txt; the line that says so), optionally followed by a file event in the
 * output folder (fs.watch: a write's temporary file appearing, or the file renamed in),
 * plus a delay; or a time since the start. Kills during a resume, and several kills in a
 * row, are moments too. An uninterrupted reference run, watched, lists the writes to aim at.
 * Prints one row per moment and a line of counts; exits 1 if any moment left an
 * unreadable file, failed to resume or ended differently (the folders are then kept).
 * test/crash.test.ts runs four moments of a smaller run with the same functions.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readSafetensors, type SafetensorsFile } from '../lib/io/index.js';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = join(REPO_ROOT, 'bin/verydeep.js');

/** The script's run: 64 steps of 32 images and 2,000 validation images an epoch, ~1–1.5 s an epoch on wasm with 2 threads. */
export const crashRunFlags = (backend = 'wasm', limit = 2048, epochs = 3): string[] => [
  '--config', 'A', '--width', '0.0625', '--fc-width', '16', '--input', '32', '--epochs', String(epochs),
  '--batch', '32', '--limit', String(limit), '--backend', backend, '--seed', '1'];

/**
 * Where to send SIGKILL: `delayMs` after the first output line that matches `line`, then
 * (with `file`) the first change in the output folder whose file name matches `file`
 * (fs.watch: a file created, written or renamed in); with neither, after the start.
 */
export interface Kill {
  line?: RegExp;
  file?: RegExp;
  delayMs: number;
}

/** A moment: kills[i] is aimed at the i-th run into the folder (the first run, then its resumes); the runs after them are left to finish. */
export interface Moment {
  name: string;
  kills: Kill[];
}

export interface RunOutcome {
  /** the exit code; null when a signal ended it */
  code: number | null;
  /** the harness's SIGKILL ended it (rather than the run ending first) */
  killed: boolean;
  /** the last line the run printed before the kill (or at all) */
  lastLine: string;
  /** stdout and stderr, interleaved as they came */
  output: string;
}

/** An output line, or a change in the output folder (fs.watch: a file created, renamed or written), at ms since the start. */
export interface TimelineEvent {
  ms: number;
  line?: string;
  file?: string;
}

export interface RunRequest {
  resume?: boolean;
  kill?: Kill;
  /** filled with the run's lines and, if the folder exists at the start, its file events */
  timeline?: TimelineEvent[];
}

/** Runs `verydeep train <flags> --out <out> [--resume]`, killing it as `kill` says. */
export function runTrain(flags: string[], out: string, { resume = false, kill, timeline }: RunRequest = {}): Promise<RunOutcome> {
  const args = [BIN, 'train', ...flags, '--out', out, ...(resume ? ['--resume'] : [])];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const at = () => performance.now() - started;
    let output = '', lastLine = '', sent = false;
    // what the kill waits for now: its line, then its file, then its delay
    let waiting: 'line' | 'file' | 'delay' | 'none' = !kill ? 'none' : kill.line ? 'line' : kill.file ? 'file' : 'delay';
    let timer: NodeJS.Timeout | undefined;
    const fire = () => {
      if (child.exitCode === null && child.signalCode === null) sent = child.kill('SIGKILL');
    };
    const next = () => {
      waiting = waiting === 'line' && kill!.file ? 'file' : 'delay';
      if (waiting !== 'delay') return;
      waiting = 'none';
      if (kill!.delayMs > 0) timer = setTimeout(fire, kill!.delayMs);
      else fire();
    };
    const watcher = (timeline || kill?.file) && existsSync(out) ? watch(out, (_, name) => {
      if (!name || sent) return;
      timeline?.push({ ms: at(), file: String(name) });
      if (waiting === 'file' && kill!.file!.test(String(name))) next();
    }) : undefined;
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = (stream: NodeJS.ReadableStream) => {
      let pending = '';
      stream.on('data', (chunk: Buffer) => {
        output += chunk;
        if (sent) return;
        const parts = (pending + chunk).split('\n');
        pending = parts.pop()!;
        for (const line of parts) {
          lastLine = line;
          timeline?.push({ ms: at(), line });
          if (waiting === 'line' && kill!.line!.test(line)) next();
          if (sent) return;
        }
      });
    };
    lines(child.stdout!);
    lines(child.stderr!);
    if (waiting === 'delay') next();
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      watcher?.close();
      resolve({ code, killed: sent && signal === 'SIGKILL', lastLine, output });
    });
  });
}

/** One atomic write seen in a timeline: its temporary file appeared at startMs and was renamed to `file` at endMs (ms after a line). */
export interface Write {
  file: string;
  startMs: number;
  endMs: number;
}

/**
 * The atomic writes that follow the first line matching `line` (until the next progress or
 * result line), timed from that line: where a kill lands inside a write, or between two.
 */
export function writesAfter(timeline: TimelineEvent[], line: RegExp): Write[] {
  const from = timeline.findIndex((e) => e.line !== undefined && line.test(e.line));
  if (from < 0) return [];
  const t0 = timeline[from].ms;
  const started = new Map<string, number>();
  const writes: Write[] = [];
  for (const e of timeline.slice(from + 1)) {
    if (e.line !== undefined) {
      if (/^(epoch |wrote |done )/.test(e.line)) break;
      continue;
    }
    const temp = /^\.(.+)\.tmp-\d+-\d+$/.exec(e.file!);
    if (temp && !started.has(temp[1])) started.set(temp[1], e.ms - t0);
    else if (started.has(e.file!) && !writes.some((w) => w.file === e.file)) writes.push({ file: e.file!, startMs: started.get(e.file!)!, endMs: e.ms - t0 });
  }
  return writes;
}

/** What a folder holds: a short description of each file, and what is wrong with it. */
export interface FolderState {
  /** e.g. 'checkpoint (epoch 2)', 'history (2)' (its epochs), 'curves', 'model', 'labels'; any other file by its name */
  files: string[];
  /** files that are incomplete or unreadable, with why */
  problems: string[];
  /** `.tmp-*` files a killed atomic write left behind (the target itself is intact) */
  strays: string[];
  /** the run lock (`.verydeep-run` and proper-lockfile's `.verydeep-run.lock`), in the folder or next to it */
  locks: string[];
}

const CHECKPOINT_FORMAT = 'verydeep-checkpoint-1';
const WEIGHTS_FORMAT = 'verydeep-weights-1';

/** Parses every file a training run writes into `dir`; `names` are the tensor names of the reference's files, to check that none is missing. */
export async function inspectFolder(dir: string, names?: { checkpoint: string[]; model: string[] }): Promise<FolderState> {
  const state: FolderState = { files: [], problems: [], strays: [], locks: [] };
  if (existsSync(`${dir}.lock`)) state.locks.push(`${dir}.lock`);
  if (!existsSync(dir)) return state;
  const tensorsOf = async (file: string, format: string, expected?: string[]): Promise<SafetensorsFile> => {
    const f = await readSafetensors(join(dir, file));
    if (f.metadata.format !== format) throw new Error(`format '${f.metadata.format}', expected '${format}'`);
    const missing = expected?.filter((n) => !f.tensors.has(n)) ?? [];
    if (missing.length) throw new Error(`missing tensors ${missing.join(', ')}`);
    return f;
  };
  for (const file of readdirSync(dir).sort()) {
    try {
      if (file.includes('.tmp-')) state.strays.push(file);
      else if (/lock|^\.verydeep-run/i.test(file)) state.locks.push(file);
      else if (file === 'checkpoint.safetensors') {
        const f = await tensorsOf(file, CHECKPOINT_FORMAT, names?.checkpoint);
        const s = JSON.parse(f.metadata.state) as { epoch: number; history: unknown[] };
        if (s.history.length !== s.epoch + 1) throw new Error(`state of epoch ${s.epoch + 1} holds ${s.history.length} epochs of history`);
        state.files.push(`checkpoint (epoch ${s.epoch + 1})`);
      } else if (file === 'model.safetensors') {
        await tensorsOf(file, WEIGHTS_FORMAT, names?.model);
        state.files.push('model');
      } else if (file === 'history.json') {
        const h = JSON.parse(await readFile(join(dir, file), 'utf8')) as unknown;
        if (!Array.isArray(h)) throw new Error('not a JSON array');
        state.files.push(`history (${h.length})`);
      } else if (file === 'curves.svg') {
        const svg = (await readFile(join(dir, file), 'utf8')).trim();
        if (!/^(<\?xml|<svg)/.test(svg) || !svg.endsWith('</svg>')) throw new Error(`not a whole SVG document (${svg.length} characters, ending '${svg.slice(-20)}')`);
        state.files.push('curves');
      } else if (file === 'labels.txt') {
        const text = await readFile(join(dir, file), 'utf8');
        if (!text.endsWith('\n') || text.trim().split('\n').length !== 10) throw new Error(`not 10 lines ending with a newline: '${text.slice(-30)}'`);
        state.files.push('labels');
      } else {
        state.files.push(file);
      }
    } catch (e) {
      state.problems.push(`${file}: ${(e as Error).message}`);
    }
  }
  return state;
}

/** The tensor names of a finished run's checkpoint and weights. */
export async function tensorNames(dir: string): Promise<{ checkpoint: string[]; model: string[] }> {
  const names = async (file: string) => [...(await readSafetensors(join(dir, file))).tensors.keys()];
  return { checkpoint: await names('checkpoint.safetensors'), model: await names('model.safetensors') };
}

/** A history record or checkpoint state without what differs between equal runs: the epochs' seconds, and the config's out folder and resume flag. */
function timeless(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (key, v) => (key === 'seconds' || key === 'out' || key === 'resume' ? undefined : v)));
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The tensors of two safetensors files that differ in name, shape or any bit. */
function tensorDifferences(file: string, ref: SafetensorsFile, got: SafetensorsFile): string[] {
  const out: string[] = [];
  for (const [name, r] of ref.tensors) {
    const g = got.tensors.get(name);
    if (!g) out.push(`${file}: tensor '${name}' missing`);
    else if (!sameJson(g.shape, r.shape)) out.push(`${file}: '${name}' is [${g.shape.join(', ')}], the reference's [${r.shape.join(', ')}]`);
    else {
      const a = new Uint32Array(r.data.buffer, r.data.byteOffset, r.data.length), b = new Uint32Array(g.data.buffer, g.data.byteOffset, g.data.length);
      let differ = 0, first = -1;
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && differ++ === 0) first = i;
      if (differ) out.push(`${file}: '${name}' differs in ${differ} of ${a.length} values (first at ${first}: ${g.data[first]}, reference ${r.data[first]})`);
    }
  }
  for (const name of got.tensors.keys()) if (!ref.tensors.has(name)) out.push(`${file}: extra tensor '${name}'`);
  return out;
}

/**
 * How a finished run's folder differs from the reference's: the weights' and checkpoint's
 * tensors bit for bit, the weights' metadata, the checkpoint's state and history.json
 * (without the times), curves.svg and labels.txt byte for byte, and no file the reference
 * has not (a lock or a killed write's temporary left after the run finished). Empty: the same.
 */
export async function compareFolders(ref: string, dir: string): Promise<string[]> {
  const refFiles = new Set(readdirSync(ref));
  const extra = readdirSync(dir).filter((f) => !refFiles.has(f));
  const out: string[] = extra.length ? [`left in the folder: ${extra.join(', ')}`] : [];
  for (const file of ['model.safetensors', 'checkpoint.safetensors', 'history.json', 'curves.svg', 'labels.txt']) {
    if (!existsSync(join(dir, file))) {
      out.push(`${file}: missing`);
      continue;
    }
    try {
      if (file.endsWith('.safetensors')) {
        const [r, g] = [await readSafetensors(join(ref, file)), await readSafetensors(join(dir, file))];
        out.push(...tensorDifferences(file, r, g));
        const [rm, gm] = file === 'model.safetensors' ? [r.metadata, g.metadata]
          : [{ ...r.metadata, state: timeless(JSON.parse(r.metadata.state)) }, { ...g.metadata, state: timeless(JSON.parse(g.metadata.state)) }];
        if (!sameJson(rm, gm)) out.push(`${file}: the metadata differs${file === 'model.safetensors' ? '' : ' (beyond the times, out and resume)'}`);
      } else if (file === 'history.json') {
        const [r, g] = await Promise.all([ref, dir].map(async (d) => timeless(JSON.parse(await readFile(join(d, file), 'utf8')))));
        if (!sameJson(r, g)) out.push(`${file}: differs beyond the epochs' seconds`);
      } else if (!readFileSync(join(ref, file)).equals(readFileSync(join(dir, file)))) {
        out.push(`${file}: differs`);
      }
    } catch (e) {
      out.push(`${file}: ${(e as Error).message}`);
    }
  }
  return out;
}

export interface MomentResult {
  moment: Moment;
  /** kills that landed (a run that ended before its kill is not counted) */
  kills: number;
  /** the folder after each kill that landed */
  afterKills: FolderState[];
  /** the last line of output before each kill */
  lastLines: string[];
  resumes: number;
  /** runs started again without --resume, there being no checkpoint yet */
  restarts: number;
  /** a run that failed by itself (not killed), e.g. a refused resume: its exit code and last lines */
  failure?: string;
  /** how the final folder differs from the reference (compareFolders) */
  differences: string[];
  /** the final folder's state */
  final?: FolderState;
}

/** Every file readable after every kill, the run finished, and its files the reference's. */
export const momentPassed = (r: MomentResult): boolean =>
  !r.failure && r.differences.length === 0 && r.afterKills.every((s) => s.problems.length === 0) && !!r.final && r.final.problems.length === 0;

const tail = (output: string, n = 4) => output.trim().split('\n').slice(-n).join(' | ');

/**
 * Plays one moment into the empty folder `dir`: each run is killed as `moment.kills` says,
 * the folder inspected after each kill, and the run resumed (restarted when there is no
 * checkpoint) until one finishes by itself; then its files are compared with `ref`'s.
 */
export async function playMoment(flags: string[], ref: string, dir: string, moment: Moment, maxRuns = 8): Promise<MomentResult> {
  const names = await tensorNames(ref);
  const r: MomentResult = { moment, kills: 0, afterKills: [], lastLines: [], resumes: 0, restarts: 0, differences: [] };
  mkdirSync(dir, { recursive: true }); // so that a kill can wait for a file in it
  let resume = false;
  for (let run = 0; ; run++) {
    if (run === maxRuns) {
      r.failure = `did not finish in ${maxRuns} runs`;
      return r;
    }
    const outcome = await runTrain(flags, dir, { resume, kill: moment.kills[run] });
    if (outcome.killed) {
      r.kills++;
      r.lastLines.push(outcome.lastLine);
      r.afterKills.push(await inspectFolder(dir, names));
    } else if (outcome.code === 0) {
      break;
    } else {
      r.failure = `run ${run + 1}${resume ? ' (--resume)' : ''} exited with ${outcome.code ?? 'a signal'}: ${tail(outcome.output)}`;
      return r;
    }
    resume = existsSync(join(dir, 'checkpoint.safetensors'));
    if (resume) r.resumes++;
    else r.restarts++;
  }
  r.final = await inspectFolder(dir, names);
  r.differences = await compareFolders(ref, dir);
  return r;
}

/** A line-triggered kill: `delayMs` after the first line matching `line`. */
export const after = (line: RegExp, delayMs = 0): Kill => ({ line, delayMs });

/** Output lines of `verydeep train`, for an epoch k (1-based) of E. */
export const lines = {
  /** the epoch's first progress line: its training has started */
  epochStarted: (k: number, E: number) => new RegExp(`^epoch ${k}/${E} step \\d+/`),
  /** the epoch's last step: the validation pass runs next */
  epochTrained: (k: number, E: number) => new RegExp(`^epoch ${k}/${E} step (\\d+)/\\1 `),
  /** the epoch's result: the checkpoint, history.json and curves.svg are written next */
  epochDone: (k: number, E: number) => new RegExp(`^epoch ${k}/${E}: `),
  /** the final weights are written: then the test set (Fashion-MNIST) and the exit */
  weightsWritten: /^wrote .*model\.safetensors/,
  /** a resume has loaded the checkpoint */
  resumed: /^resumed from /,
  /** the model is built and the data loaded: training starts */
  modelBuilt: /^VGG-/,
  /** the run's last line */
  done: /^done in /,
};

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A kill inside the atomic write of `file` after epoch k's result line: `delayMs` after its temporary file appears. */
export const insideWrite = (k: number, E: number, file: string, delayMs = 0): Kill => ({ line: lines.epochDone(k, E), file: new RegExp(`^\\.${escape(file)}\\.tmp-`), delayMs });

/** A kill as soon as `file` is renamed into place after epoch k's result line (before the next write starts). */
export const afterWrite = (k: number, E: number, file: string): Kill => ({ line: lines.epochDone(k, E), file: new RegExp(`^${escape(file)}$`), delayMs: 0 });

/** the writes after an epoch's result line, where the reference's were not seen */
const EPOCH_WRITES = ['checkpoint.safetensors', 'history.json', 'curves.svg'];

/**
 * Kills inside each write after epoch k's result line (as its temporary file appears: the
 * write has begun and cannot have ended) and right after each is renamed in; the first
 * write also 1 ms into it. `writes` are the reference's.
 */
export function aroundWrites(k: number, E: number, writes: Write[]): Moment[] {
  const files = writes.length ? writes.map((w) => w.file) : EPOCH_WRITES;
  return files.flatMap((file, i) => [
    { name: `epoch ${k}: as the ${file} write begins`, kills: [insideWrite(k, E, file)] },
    ...(i === 0 ? [{ name: `epoch ${k}: 1 ms into the ${file} write`, kills: [insideWrite(k, E, file, 1)] }] : []),
    { name: `epoch ${k}: ${file} just renamed in`, kills: [afterWrite(k, E, file)] },
  ]);
}

/**
 * The script's moments for an E-epoch run whose reference took `trainMs` from the model's
 * line to the last line, and whose writes after the first and the last epoch's result
 * lines were `first` and `last`.
 */
export function scriptMoments(E: number, trainMs: number, first: Write[], last: Write[]): Moment[] {
  const { epochStarted, epochTrained, epochDone, weightsWritten, resumed, modelBuilt } = lines;
  const moments: Moment[] = [
    { name: 'during epoch 1 (no checkpoint yet)', kills: [after(epochStarted(1, E))] },
    { name: 'epoch 1: its validation pass', kills: [after(epochTrained(1, E))] },
    { name: 'epoch 1: its result line (+0 ms)', kills: [after(epochDone(1, E))] },
    ...aroundWrites(1, E, first),
    { name: 'during epoch 2', kills: [after(epochStarted(2, E))] },
    { name: `epoch ${E}: its validation pass`, kills: [after(epochTrained(E, E))] },
    { name: `epoch ${E}: its result line (+0 ms)`, kills: [after(epochDone(E, E))] },
    ...aroundWrites(E, E, last),
    { name: 'after the line saying the weights are written', kills: [after(weightsWritten)] },
    { name: 'a resume, right after it loaded the checkpoint', kills: [after(epochStarted(2, E)), after(resumed)] },
    { name: 'a resume, inside its checkpoint write', kills: [after(epochStarted(2, E)), insideWrite(2, E, 'checkpoint.safetensors')] },
    { name: 'three kills: epoch 1, its history write, the last epoch', kills: [after(epochStarted(1, E)), insideWrite(1, E, 'history.json'), after(epochStarted(E, E))] },
  ];
  // a sweep of times, from the model's line (the start-up's time varies most with the machine's load)
  for (const f of [0.15, 0.3, 0.45, 0.6, 0.75]) {
    const ms = Math.round(f * trainMs);
    moments.push({ name: `${ms} ms into training (${Math.round(f * 100)}% of the reference's)`, kills: [after(modelBuilt, ms)] });
  }
  return moments;
}

/** One row of the table: the folder after each kill, the runs it took, the verdict. */
export function describeResult(r: MomentResult): { files: string; runs: string; result: string } {
  const folder = (s: FolderState) => [s.files.join(', ') || 'empty', ...s.problems.map((p) => `UNREADABLE ${p}`),
    ...s.strays.map((f) => `killed inside the ${/^\.(.+)\.tmp-/.exec(f)?.[1] ?? f} write`), ...(s.locks.length ? ['stale lock'] : [])].join('; ');
  const files = r.afterKills.map(folder).join(' / ') || '(the run ended before the kill)';
  const runs = [r.resumes && `${r.resumes} resume${r.resumes > 1 ? 's' : ''}`, r.restarts && `${r.restarts} restart${r.restarts > 1 ? 's' : ''}`].filter(Boolean).join(', ') || '-';
  const result = r.failure ? `FAILED: ${r.failure}` : r.differences.length ? `NO: ${r.differences.join('; ')}` : momentPassed(r) ? 'yes' : 'files lost';
  return { files, runs, result };
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { backend: { type: 'string', default: 'wasm' }, keep: { type: 'boolean', default: false } } });
  const E = 3;
  const flags = crashRunFlags(values.backend, 2048, E);
  const base = mkdtempSync(join(tmpdir(), 'verydeep-crash-'));
  const ref = join(base, 'reference');
  console.log(`verydeep train ${flags.join(' ')} --out <folder> [--resume]; folders in ${base}`);
  const started = Date.now();
  const timeline: TimelineEvent[] = [];
  mkdirSync(ref); // so that its writes can be watched and timed
  const reference = await runTrain(flags, ref, { timeline });
  const runMs = Date.now() - started;
  if (reference.code !== 0) {
    console.error(`the uninterrupted reference run failed (exit ${reference.code}): ${tail(reference.output, 10)}`);
    return 1;
  }
  const refState = await inspectFolder(ref);
  console.log(`reference: ${runMs} ms, ${refState.files.join(', ')}${refState.problems.length ? `; UNREADABLE ${refState.problems.join('; ')}` : ''}`);
  const first = writesAfter(timeline, lines.epochDone(1, E)), last = writesAfter(timeline, lines.epochDone(E, E));
  const timing = (ws: Write[]) => ws.map((w) => `${w.file} ${w.startMs.toFixed(1)}–${w.endMs.toFixed(1)} ms`).join(', ') || 'none seen';
  console.log(`writes after epoch 1's result line: ${timing(first)}\nwrites after epoch ${E}'s: ${timing(last)}`);
  const lineAt = (line: RegExp) => timeline.find((e) => e.line !== undefined && line.test(e.line))?.ms ?? 0;
  const trainMs = lineAt(lines.done) - lineAt(lines.modelBuilt);
  console.log(`training (from the model's line to the last): ${trainMs.toFixed(0)} ms`);
  const moments: Moment[] = [{ name: 'no kill (a second uninterrupted run)', kills: [] }, ...scriptMoments(E, trainMs, first, last)];
  const widths = [3, 56, 78, 20];
  const row = (cells: string[]) => console.log(cells.map((c, i) => (i < widths.length ? c.padEnd(widths[i]) : c)).join(' '));
  console.log('');
  row(['#', 'moment of the kill -9', 'files after the kill (all parsed; / between kills)', 'runs to the end', 'bit-exact']);
  const results: MomentResult[] = [];
  for (const [i, moment] of moments.entries()) {
    const r = await playMoment(flags, ref, join(base, `m${String(i).padStart(2, '0')}`), moment);
    results.push(r);
    const d = describeResult(r);
    row([String(i), moment.name, d.files, d.runs, d.result]);
  }
  const killed = results.filter((r) => r.kills > 0);
  const passed = results.filter(momentPassed).length;
  const unreadable = results.reduce((n, r) => n + r.afterKills.reduce((m, s) => m + s.problems.length, 0), 0);
  const strays = results.reduce((n, r) => n + r.afterKills.reduce((m, s) => m + s.strays.length, 0), 0);
  const missed = moments.reduce((n, m, i) => n + m.kills.length - results[i].kills, 0);
  console.log(`\n${moments.length} moments, ${killed.length} with a kill -9 (${results.reduce((n, r) => n + r.kills, 0)} kills, ${missed} aimed kills that came after the run ended), ` +
    `${results.reduce((n, r) => n + r.resumes, 0)} resumes, ${results.reduce((n, r) => n + r.restarts, 0)} restarts; ` +
    `${passed} of ${moments.length} ended bit for bit as the reference; ${unreadable} unreadable files after a kill; ${strays} kills inside a write; ${(Date.now() - started) / 1000 | 0} s`);
  const ok = passed === moments.length;
  if (ok && !values.keep) rmSync(base, { recursive: true, force: true });
  else console.log(`folders kept in ${base}`);
  return ok ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await main();
