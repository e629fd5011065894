/**
 * Tests: the CLI and the trainer's wrong uses (issue 12).
 *
 *  1. every bad flag of `verydeep train` is one line on stderr, `error: ...`, naming the
 *     flag, exit 2, with nothing started (no backend line, no folder made); /proc and /sys
 *     are refused rather than hung on;
 *  2. classify and eval, unknown commands, --debug and VERYDEEP_DEBUG (the stack), --version;
 *  3. runTraining and fit from code refuse the same values (UsageError, ValueError);
 *  4. the output folder's lock: two runs on one --out, a run killed with SIGKILL, a lock
 *     lost while held, a held lock that does not keep a process alive;
 *  5. --resume: the run's options, differing ones refused (or --override), a finished run
 *     left byte for byte, a diverging run stopped with the last good checkpoint intact;
 *  6. damaged and mismatched checkpoints: a CheckpointError naming the file and tensors;
 *  7. Ctrl-C: the first stops after the step under way (exit 130, a line saying what the
 *     folder holds) and --resume ends at the weights of an uninterrupted run; a second exits
 *     at once, leaving a checkpoint that loads.
 *
 * Spawned runs are tiny (VGG-A at width 1/16, FC 16, 64 images, the wasm fast path).
 */
import test from 'tape';
import type { Test } from 'tape';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as io from '../lib/io/index.js';
import * as train from '../lib/train/index.js';
import * as data from '../lib/data/index.js';
import { Vgg } from '../lib/models/vgg.js';
import { lockFolder, RUN_FILE } from '../lib/io/lock.js';
import { CheckpointError, DataError, LockError, NumericsError, UsageError, ValueError } from '../lib/core/errors.js';
import { badInputs, rejectsNamed, throwsNamed } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'verydeep.js');
const TINY = ['--config', 'A', '--width', '0.0625', '--fc-width', '16', '--input', '32', '--batch', '32', '--limit', '64', '--backend', 'wasm'];
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node bin/verydeep.js ...args`, without a VERYDEEP_DEBUG the runner may have */
function cli(args: string[], env: Record<string, string> = {}): Outcome {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, VERYDEEP_DEBUG: '', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same, not waited for: for runs that another must meet while they hold the folder. */
function cliAsync(args: string[]): { child: ChildProcess; done: Promise<Outcome> } {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, VERYDEEP_DEBUG: '' } });
  let stdout = '', stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return { child, done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr }))) };
}

const lines = (text: string) => text.split('\n').filter((l) => l.trim());

/** cliAsync, and a wait for a line of its stdout or stderr: resolves to whether one matched within `ms` */
function cliWatched(args: string[]): { child: ChildProcess; done: Promise<Outcome>; waitFor: (stream: 'stdout' | 'stderr', re: RegExp, ms?: number) => Promise<boolean> } {
  const run = cliAsync(args);
  const text = { stdout: '', stderr: '' };
  run.child.stdout!.on('data', (d) => (text.stdout += d));
  run.child.stderr!.on('data', (d) => (text.stderr += d));
  const waitFor = (stream: 'stdout' | 'stderr', re: RegExp, ms = 30_000) => new Promise<boolean>((resolve) => {
    const check = () => {
      if (!re.test(text[stream])) return false;
      run.child[stream]!.off('data', check);
      clearTimeout(timer);
      resolve(true);
      return true;
    };
    const timer = setTimeout(() => { run.child[stream]!.off('data', check); resolve(false); }, ms);
    if (!check()) run.child[stream]!.on('data', check);
  });
  return { ...run, waitFor };
}

/**
 * Asserts a failed command: exit `code`, stderr exactly one line `error: ...` matching
 * every pattern, no stack line; counts it in the tally under the class it must be.
 */
function failsWith(t: Test, r: Outcome, cls: { name: string }, code: number, patterns: RegExp[], what: string): void {
  badInputs.set(cls.name, (badInputs.get(cls.name) ?? 0) + 1);
  const errs = lines(r.stderr);
  const ok = r.code === code && errs.length === 1 && errs[0].startsWith('error: ') && !/^\s+at /m.test(r.stderr) && patterns.every((p) => p.test(errs[0]));
  t.ok(ok, `${what}: exit ${r.code}${r.code === code ? '' : ` (expected ${code})`}, ${errs.length} stderr line(s): ${errs.slice(0, 3).join(' | ') || '(none)'}`);
}

const tempDir = () => mkdtempSync(join(tmpdir(), 'verydeep-cli-test-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** waits until `path` exists (a run has taken its lock), at most `ms` */
async function until(path: string, ms = 20_000): Promise<boolean> {
  for (const start = Date.now(); Date.now() - start < ms; await sleep(20)) if (existsSync(path)) return true;
  return false;
}

/** the files of a folder and their bytes */
function snapshot(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f))]));
}

function sameFiles(a: Map<string, Buffer>, b: Map<string, Buffer>): boolean {
  return a.size === b.size && [...a].every(([f, bytes]) => b.get(f)?.equals(bytes));
}

/** the training state in a checkpoint's metadata */
async function stateOf(path: string): Promise<any> {
  return JSON.parse((await io.readSafetensors(path)).metadata.state);
}

export function registerCliTests(): void {
  // 1. bad flags of train -------------------------------------------------------------------

  test('cli: every bad train flag is one line naming the flag, exit 2, before any work (no backend, no folder)', (t) => {
    const dir = tempDir();
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const fresh = join(dir, 'never-made');
    const cases: [string[], RegExp[]][] = [
      [['--batch', '0'], [/--batch/, /integer ≥ 1/, /got 0/]],
      [['--config', 'Z'], [/--config/, /A, A-LRN, B, C, D, E/, /'Z'/]],
      [['--data', '/missing'], [/--data/, /mnist, fashion-mnist/, /'\/missing'/]],
      [['--backend', 'bogus'], [/--backend/, /wasm/, /'bogus'/]],
      [['--dropout', '1'], [/--dropout/, /\[0, 1\)/, /got 1/]],
      [['--dropout', '-0.5'], [/--dropout/, /\[0, 1\)/, /got -0.5/]],
      [['--limit', '0'], [/--limit/, /integer ≥ 1/, /got 0/]],
      [['--epochs', '0'], [/--epochs/, /integer ≥ 1/]],
      [['--batch', '64', '--micro-batch', '65'], [/--micro-batch/, /from 1 to 64/, /got 65/]],
      [['--micro-batch', '0'], [/--micro-batch/, /got 0/]],
      [['--lr', '0'], [/--lr/, /> 0/, /got 0/]],
      [['--lr', '-1'], [/--lr/, /> 0/, /got -1/]],
      [['--momentum', '1'], [/--momentum/, /\[0, 1\)/]],
      [['--weight-decay', '-1'], [/--weight-decay/, /≥ 0/]],
      [['--patience', '-1'], [/--patience/, /≥ 0/]],
      [['--seed', '1.5'], [/--seed/, /integer/, /'1\.5'/]],
      [['--width', '0'], [/--width/, /> 0/]],
      [['--input', '16'], [/--input/, /≥ 32/, /got 16/]],
      [['--fc-width', '0'], [/--fc-width/, /≥ 1/]],
      [['--init', 'he'], [/--init/, /paper, glorot/, /'he'/]],
      [['--epochs', 'many'], [/--epochs/, /an integer/, /'many'/]],
      [['--epochs', '2.5'], [/--epochs/, /an integer/, /'2\.5'/]],
      [['--out', fresh, '--batch'], [/--batch/, /argument missing/]],
      [['--frobnicate'], [/Unknown option '--frobnicate'/, /--help/]],
      [['--resume', 'yes'], [/Unexpected argument 'yes'/]],
      [['--out', file], [/--out/, /a-file/, /not a folder/]],
      [['--out', join(file, 'below')], [/--out/, /a-file is not a folder/]],
      [['--out', '/proc/verydeep-x'], [/--out/, /\/proc/, /pseudo file system/]],
      [['--out', '/sys/x'], [/--out/, /\/sys/, /sysfs/]],
      [['--resume'], [/--resume needs --out/]],
      [['--override', '--out', fresh], [/--override only applies with --resume/]],
    ];
    for (const [args, patterns] of cases) {
      const r = cli(['train', ...args, ...(args.includes('--out') || args.includes('--resume') ? [] : ['--out', fresh])]);
      failsWith(t, r, UsageError, 2, patterns, `train ${args.join(' ')}`);
      t.equal(r.stdout, '', `train ${args.join(' ')}: nothing started (no output)`);
    }
    t.notOk(existsSync(fresh), 'no bad run made its --out folder');
    failsWith(t, cli(['frobnicate']), UsageError, 2, [/unknown command 'frobnicate'/, /train, classify, eval/], 'an unknown command');
    failsWith(t, cli(['--frobnicate']), UsageError, 2, [/unknown option '--frobnicate'/], 'an unknown top-level option');
    rmSync(dir, { recursive: true, force: true });
    t.end();
  });

  test('cli: --resume of a folder with no checkpoint, and fashion-mnist where it is not installed, are one line (exit 1)', (t) => {
    const dir = tempDir();
    failsWith(t, cli(['train', '--resume', '--out', dir]), CheckpointError, 1, [/--resume/, new RegExp(`${dir}/checkpoint\\.safetensors does not exist`)], 'train --resume --out <empty folder>');
    const missing = join(dir, 'none');
    failsWith(t, cli(['train', '--resume', '--out', missing]), CheckpointError, 1, [/--resume/, /none\/checkpoint\.safetensors does not exist/], 'train --resume --out <missing folder>');
    if (!existsSync(join(data.FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz')) && !existsSync(join(data.FASHION_MNIST_DIR, 'train-images-idx3-ubyte'))) {
      failsWith(t, cli(['train', '--data', 'fashion-mnist']), DataError, 1, [/--data fashion-mnist/, /apt-get install dataset-fashion-mnist/], 'train --data fashion-mnist, not installed');
    }
    rmSync(dir, { recursive: true, force: true });
    t.end();
  });

  // 2. classify, eval, --debug, --version --------------------------------------------------

  test('cli: classify and eval: a missing flag (exit 2) or a missing file (exit 1) is one line naming it', (t) => {
    const dir = tempDir();
    const weights = join(dir, 'w.safetensors');
    writeFileSync(weights, 'not really');
    failsWith(t, cli(['classify']), UsageError, 2, [/classify/, /at least one image/], 'classify with no image');
    failsWith(t, cli(['classify', 'x.jpg']), UsageError, 2, [/--weights/, /required/], 'classify without --weights');
    failsWith(t, cli(['classify', 'x.jpg', '--weights', join(dir, 'none.safetensors')]), DataError, 1, [/--weights/, /none\.safetensors does not exist/], 'classify --weights <missing>');
    failsWith(t, cli(['classify', join(dir, 'no.jpg'), '--weights', weights]), DataError, 1, [/image/, /no\.jpg does not exist/], 'classify <missing image>');
    failsWith(t, cli(['classify', 'x.jpg', '--weights', weights, '--protocol', 'fancy']), UsageError, 2, [/--protocol/, /'center', 'dense', 'multicrop'/, /'fancy'/], 'classify --protocol fancy');
    failsWith(t, cli(['classify', 'x.jpg', '--weights', weights, '--grid', '0']), UsageError, 2, [/--grid/, /≥ 1/], 'classify --grid 0');
    failsWith(t, cli(['classify', 'x.jpg', '--weights', weights, '--scales', '256,-1']), UsageError, 2, [/--scales/, /'-1'/], 'classify --scales 256,-1');
    failsWith(t, cli(['eval', '--weights', weights]), UsageError, 2, [/--data/, /required/], 'eval without --data');
    failsWith(t, cli(['eval', '--data', dir]), UsageError, 2, [/--weights/, /required/], 'eval without --weights');
    failsWith(t, cli(['eval', '--data', join(dir, 'nope'), '--weights', weights]), DataError, 1, [/--data/, /nope does not exist/], 'eval --data <missing>');
    failsWith(t, cli(['eval', '--data', weights, '--weights', weights]), DataError, 1, [/--data/, /not a folder/], 'eval --data <a file>');
    failsWith(t, cli(['eval', 'extra', '--data', dir, '--weights', weights]), UsageError, 2, [/Unexpected argument 'extra'/], 'eval with a stray argument');
    rmSync(dir, { recursive: true, force: true });
    t.end();
  });

  test('cli: --debug and VERYDEEP_DEBUG=1 print the stack after the line (and change no exit code); --version prints package.json\'s', (t) => {
    for (const [what, r] of [['--debug', cli(['train', '--batch', '0', '--debug'])], ['VERYDEEP_DEBUG=1', cli(['train', '--batch', '0'], { VERYDEEP_DEBUG: '1' })],
      ['--debug first', cli(['--debug', 'train', '--batch', '0'])]] as const) {
      const errs = lines(r.stderr);
      t.ok(r.code === 2 && errs[0] === 'error: verydeep train: --batch expects an integer ≥ 1, got 0' && /^UsageError: /m.test(r.stderr) && /^\s+at checkRunOptions/m.test(r.stderr),
        `${what}: exit ${r.code}, the line, then the stack (${errs.length} lines)`);
    }
    for (const flag of ['--version', '-V']) {
      const r = cli([flag]);
      t.ok(r.code === 0 && r.stdout.trim() === `verydeep ${VERSION}` && r.stderr === '', `${flag}: '${r.stdout.trim()}'`);
    }
    const help = cli(['--help']).stdout, trainHelp = cli(['train', '--help']).stdout;
    t.ok(['--version', '--debug'].every((f) => help.includes(f)), 'verydeep --help lists --version and --debug');
    t.ok(['--override', '--debug', '--resume'].every((f) => trainHelp.includes(`  ${f}`)), 'verydeep train --help lists --override, --debug and --resume');
    t.end();
  });

  // 3. the same checks from code -----------------------------------------------------------

  test('train.runTraining and train.checkRunOptions refuse bad options as the CLI does (UsageError naming the flag); train.fit with ValueError naming the option', async (t) => {
    const o = { ...train.RUN_DEFAULTS, log: () => {} };
    throwsNamed(t, () => train.checkRunOptions({ ...o, batch: 0 }), UsageError, [/--batch/, /got 0/], 'checkRunOptions: batch 0');
    throwsNamed(t, () => train.checkRunOptions({ ...o, limit: 0 }), UsageError, [/--limit/, /got 0/], 'checkRunOptions: limit 0');
    throwsNamed(t, () => train.checkRunOptions({ ...o, lr: Number.NaN }), UsageError, [/--lr/, /got NaN/], 'checkRunOptions: lr NaN');
    throwsNamed(t, () => train.checkRunOptions({ ...o, flip: 'yes' as unknown as boolean }), UsageError, [/--flip/, /true or false/], 'checkRunOptions: flip "yes"');
    await rejectsNamed(t, () => train.runTraining({ config: 'Z', log: () => {} }), UsageError, [/--config/, /'Z'/], 'runTraining: config Z');
    await rejectsNamed(t, () => train.runTraining({ out: '/proc/verydeep-x', log: () => {} }), UsageError, [/--out/, /proc/], 'runTraining: out under /proc');

    const images = new Float32Array(4 * 32 * 32);
    const set = new data.ArrayDataset('four', images, Int32Array.from([0, 1, 2, 3]), [1, 32, 32], 10);
    const model = Vgg.config('A', { numClasses: 10, inputSize: 32, inputChannels: 1, widthMultiplier: 1 / 16, fcWidth: 16 });
    const common = { model, trainSet: set, validationSet: set, epochs: 1, batchSize: 2, log: () => {}, interactive: false };
    const bad: [string, Record<string, unknown>, RegExp[]][] = [
      ['batchSize 0', { batchSize: 0 }, [/batchSize/, /integer ≥ 1/, /got 0/]],
      ['epochs 0', { epochs: 0 }, [/epochs/, /got 0/]],
      ['microBatchSize 3 for batchSize 2', { microBatchSize: 3 }, [/microBatchSize/, /\[1, batchSize = 2\]/, /got 3/]],
      ['lr 0', { lr: 0 }, [/\blr\b/, /> 0/]],
      ['lr Infinity', { lr: Infinity }, [/\blr\b/, /got Infinity/]],
      ['momentum 1', { momentum: 1 }, [/momentum/, /\[0, 1\)/]],
      ['weightDecay -1', { weightDecay: -1 }, [/weightDecay/]],
      ['patience 0.5', { patience: 0.5 }, [/patience/, /got 0.5/]],
      ['seed "1"', { seed: '1' }, [/seed/, /'1' \(a string\)/]],
      ['an empty trainSet', { trainSet: { name: 'none', length: 0 } }, [/trainSet/, /0 images/]],
      ['outDir under /proc', { outDir: '/proc/verydeep-x' }, [/outDir/, /proc/]],
      ['resume without outDir', { resume: true }, [/outDir/, /resume/]],
    ];
    for (const [what, change, patterns] of bad) {
      await rejectsNamed(t, () => train.fit({ ...common, ...change } as train.FitOptions), ValueError, [/^train\.fit: expected /, ...patterns], `fit: ${what}`);
    }
    model.dispose();
  });

  // 4. the lock ------------------------------------------------------------------------------

  test('cli: two runs on one --out: the second refuses at once, naming the first\'s PID (exit 1); the first ends with its own results', async (t) => {
    const dir = tempDir();
    const out = join(dir, 'run');
    const first = cliAsync(['train', ...TINY, '--limit', '128', '--epochs', '2', '--seed', '1', '--out', out]);
    t.ok(await until(join(out, RUN_FILE)), 'the first run holds the folder');
    const second = cli(['train', ...TINY, '--epochs', '1', '--seed', '2', '--out', out]);
    failsWith(t, second, LockError, 1, [/--out/, /in use by another run/, new RegExp(`PID ${first.child.pid}\\b`)], 'the second run');
    t.equal(second.stdout, '', 'the second run started nothing');
    const r = await first.done;
    t.equal(r.code, 0, `the first run ends well: ${lines(r.stdout).pop()}`);
    const state = await stateOf(join(out, 'checkpoint.safetensors'));
    t.ok(state.config.seed === 1 && state.config.limit === 128 && state.history.length === 2, 'the checkpoint is the first run\'s: seed 1, 128 images, 2 epochs');
    t.deepEqual(readdirSync(out).filter((f) => f.startsWith(RUN_FILE)), [], 'the lock and its PID file are gone after the run');
    rmSync(dir, { recursive: true, force: true });
  });

  test('cli: the lock of a run killed with SIGKILL is taken over at once by the next run', async (t) => {
    const dir = tempDir();
    const out = join(dir, 'run');
    const killed = cliAsync(['train', ...TINY, '--epochs', '20', '--out', out]);
    t.ok(await until(join(out, RUN_FILE)), 'the run holds the folder');
    killed.child.kill('SIGKILL');
    await killed.done;
    t.ok(existsSync(join(out, `${RUN_FILE}.lock`)) && existsSync(join(out, RUN_FILE)), 'SIGKILL left the lock and the PID file');
    const started = Date.now();
    const next = cli(['train', ...TINY, '--epochs', '1', '--out', out]);
    t.equal(next.code, 0, `the next run ends well (${((Date.now() - started) / 1000).toFixed(1)} s, no wait for the lock to go stale)`);
    t.ok(new RegExp(`PID ${killed.child.pid}.*no longer running; taking its lock over`).test(next.stdout), 'it says whose lock it took over');
    t.deepEqual(readdirSync(out).filter((f) => f.startsWith(RUN_FILE)), [], 'and leaves no lock behind');
    rmSync(dir, { recursive: true, force: true });
  });

  test('io/lock: a second lock in-process names this PID; a lost lock is a warning, not a crash; a held lock keeps no process alive', async (t) => {
    const dir = tempDir();
    const lines: string[] = [];
    const lock = await lockFolder(join(dir, 'a', 'b'), { log: (l) => lines.push(l), updateMs: 1000 });
    t.ok(statSync(join(dir, 'a', 'b')).isDirectory(), 'the folder is made, level by level');
    await rejectsNamed(t, () => lockFolder(join(dir, 'a', 'b')), LockError, [/lockFolder/, new RegExp(`PID ${process.pid}\\b`)], 'a second lock on a held folder');
    // proper-lockfile's default onCompromised throws from a timer: the process would end with no sentence
    rmdirSync(join(dir, 'a', 'b', `${RUN_FILE}.lock`));
    await sleep(1600);
    t.ok(lock.lost && lines.some((l) => /warning: .*lost the lock/.test(l)), `the lost lock is noticed: ${lines.join(' | ')}`);
    await lock.release();
    const again = await lockFolder(join(dir, 'a', 'b'));
    await again.release();
    t.pass('the folder can be locked again after release');
    const script = `import { lockFolder } from ${JSON.stringify(join(ROOT, 'dist', 'lib', 'io', 'lock.js'))}; await lockFolder(${JSON.stringify(join(dir, 'held'))}); console.log('held');`;
    const started = Date.now();
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    t.ok(r.status === 0 && r.stdout.trim() === 'held' && Date.now() - started < 10_000, `a process that never releases its lock still exits (${Date.now() - started} ms, exit ${r.status})`);
    rmSync(dir, { recursive: true, force: true });
  });

  // 5. resume ------------------------------------------------------------------------------

  test('cli: --resume continues with the run\'s options, refuses differing ones (all listed) unless --override, and leaves a finished run untouched', async (t) => {
    const dir = tempDir();
    const out = join(dir, 'run');
    const first = cli(['train', ...TINY, '--epochs', '1', '--out', out]);
    t.equal(first.code, 0, 'a first epoch');
    const ckpt = join(out, 'checkpoint.safetensors');
    t.deepEqual((await stateOf(ckpt)).config, { config: 'A', data: 'mnist', width: 0.0625, input: 32, fcWidth: 16, dropout: 0.5, init: 'glorot', epochs: 1, batch: 32,
      lr: 0.01, momentum: 0.9, weightDecay: 5e-4, patience: 1, seed: 1, augment: true, flip: false, limit: 64, backend: 'wasm' }, 'the checkpoint keeps the run\'s options');

    const before = snapshot(out);
    const finished = cli(['train', '--out', out, '--resume']);
    t.ok(finished.code === 0 && /no epoch left to train, .* unchanged/.test(finished.stdout), `a finished run resumed: ${lines(finished.stdout).pop()}`);
    t.ok(sameFiles(snapshot(out), before), 'no file of the folder changed, model.safetensors and labels.txt included');

    const refused = cli(['train', '--out', out, '--resume', '--lr', '0.05', '--batch', '16', '--flip', '--epochs', '2']);
    failsWith(t, refused, UsageError, 2, [/--resume/, /--lr 0\.05 \(the run's: 0\.01\)/, /--batch 16 \(the run's: 32\)/, /--flip \(the run's: no --flip\)/, /--override/], 'differing options');
    t.notOk(/--epochs/.test(refused.stderr), 'more --epochs is no difference');
    t.ok(sameFiles(snapshot(out), before), 'the refused resume changed nothing');

    // the stored width, FC width and limit are what make the model and data fit: defaults would not
    const more = cli(['train', '--out', out, '--resume', '--epochs', '2']);
    t.equal(more.code, 0, `--resume --epochs 2 with nothing else given: ${lines(more.stderr)[0] ?? lines(more.stdout).pop()}`);
    t.ok(/37,178 parameters; 64 training/.test(more.stdout), 'the run\'s model and data (width 1/16, FC 16, 64 images), not the defaults');
    t.equal((await stateOf(ckpt)).history.length, 2, 'the checkpoint holds both epochs');

    const overridden = cli(['train', '--out', out, '--resume', '--epochs', '3', '--lr', '0.05', '--override']);
    const state = await stateOf(ckpt);
    t.ok(overridden.code === 0 && /--override: .*--lr 0\.05 \(the run's: 0\.01\)/.test(overridden.stdout), 'with --override the change is logged');
    t.ok(state.history[2].lr === 0.05 && state.config.lr === 0.05, `and takes effect: epoch 3 ran at lr ${state.history[2].lr}, and the run's lr is now ${state.config.lr}`);
    rmSync(dir, { recursive: true, force: true });
  });

  test('cli: a loss that becomes NaN/Inf stops the run (NumericsError naming epoch and step, suggesting --lr) and the last good checkpoint stays byte for byte', async (t) => {
    const dir = tempDir();
    const out = join(dir, 'run');
    t.equal(cli(['train', ...TINY, '--epochs', '1', '--out', out]).code, 0, 'a good first epoch');
    const before = snapshot(out);
    const r = cli(['train', '--out', out, '--resume', '--epochs', '2', '--lr', '1e6', '--override']);
    failsWith(t, r, NumericsError, 1, [/the loss became (NaN|-?Infinity)/, /epoch 2, step \d+ of 2/, /--lr/, /keeps the last good epoch/], 'lr 1e6');
    t.ok(sameFiles(snapshot(out), before), 'every file of the folder is as the good epoch left it');

    // one step per epoch: the losses of the step are finite, the weights after it are not usable
    const images = Float32Array.from({ length: 8 * 32 * 32 }, (_, i) => ((i * 7919) % 255) - 127);
    const set = new data.ArrayDataset('eight', images, Int32Array.from({ length: 8 }, (_, i) => i % 10), [1, 32, 32], 10);
    const model = () => Vgg.config('A', { numClasses: 10, inputSize: 32, inputChannels: 1, widthMultiplier: 1 / 16, fcWidth: 16, init: 'glorot', dropout: 0 });
    const fitDir = join(dir, 'fit');
    const common = { trainSet: set, validationSet: set, epochs: 2, batchSize: 8, outDir: fitDir, log: () => {}, interactive: false };
    const m1 = model();
    await train.fit({ ...common, model: m1, stopAfterEpochs: 1 });
    m1.dispose();
    const good = snapshot(fitDir);
    const m2 = model();
    await rejectsNamed(t, () => train.fit({ ...common, model: m2, resume: true, overrideLr: 1e30 }), NumericsError,
      [/train\.fit/, /after epoch 2|epoch 2, step 1/, /keeps the last good epoch/], 'fit: an epoch whose one step makes the weights diverge');
    m2.dispose();
    t.ok(sameFiles(snapshot(fitDir), good), 'fit left the good checkpoint, history and curves as they were');
    rmSync(dir, { recursive: true, force: true });
  });

  // 6. damaged and mismatched checkpoints ----------------------------------------------------

  test('cli: a damaged or mismatched checkpoint is a CheckpointError naming the file (and the tensors), never a SyntaxError or a silent resume', async (t) => {
    const dir = tempDir();
    const out = join(dir, 'run');
    t.equal(cli(['train', ...TINY, '--epochs', '1', '--out', out]).code, 0, 'a checkpoint to damage');
    const ckpt = join(out, 'checkpoint.safetensors');
    const file = await io.readSafetensors(ckpt);
    const tensors = Object.fromEntries(file.tensors);
    const state = JSON.parse(file.metadata.state);
    const variant = async (name: string, change: (copy: string) => Promise<void> | void) => {
      const copy = join(dir, name);
      mkdirSync(copy);
      copyFileSync(ckpt, join(copy, 'checkpoint.safetensors'));
      await change(join(copy, 'checkpoint.safetensors'));
      return copy;
    };
    const resume = (folder: string) => () => train.runTraining({ out: folder, resume: true, log: () => {} });
    const cases: [string, (path: string) => Promise<void> | void, RegExp[]][] = [
      ['a cut file', (p) => writeFileSync(p, readFileSync(p).subarray(0, 5000)), [/cut\/checkpoint\.safetensors/]],
      ['a cut header', (p) => writeFileSync(p, readFileSync(p).subarray(0, 100)), [/cannot read the checkpoint/, /header\/checkpoint\.safetensors/]],
      ['a state that is not JSON', (p) => io.writeSafetensors(p, tensors, { ...file.metadata, state: '{"epoch": 0,' }), [/json\/checkpoint\.safetensors/, /not JSON/]],
      ['a state without its fields', (p) => io.writeSafetensors(p, tensors, { ...file.metadata, state: JSON.stringify({ epoch: 0, config: state.config }) }),
        [/fields\/checkpoint\.safetensors/, /history/, /optimizer/, /scheduler/]],
      ['a model file, not a checkpoint', (p) => copyFileSync(join(out, 'model.safetensors'), p), [/model\/checkpoint\.safetensors/, /not a verydeep checkpoint/]],
      ['a transposed weight', (p) => io.writeSafetensors(p, { ...tensors, 'features.0.weight': { ...tensors['features.0.weight'], shape: [3, 3, 1, 4] } }, file.metadata),
        [/transposed\/checkpoint\.safetensors does not fit the model/, /features\.0\.weight: \[3, 3, 1, 4\] in the file, \[4, 1, 3, 3\] in the model/]],
      ['a velocity of another shape', (p) => io.writeSafetensors(p, { ...tensors, 'optimizer.velocity.0': { ...tensors['optimizer.velocity.0'], shape: [36] } }, file.metadata),
        [/velocity\/checkpoint\.safetensors does not fit/, /optimizer\.velocity\.0: \[36\] in the file, \[4, 1, 3, 3\] in the model/]],
      ['a missing weight and a stray tensor', (p) => {
        const { 'classifier.0.bias': _, ...rest } = tensors;
        return io.writeSafetensors(p, { ...rest, 'extra.weight': { shape: [1], data: new Float32Array(1) } }, file.metadata);
      }, [/classifier\.0\.bias \[16\]: missing/, /extra\.weight \[1\]: not in the model/]],
    ];
    const names = ['cut', 'header', 'json', 'fields', 'model', 'transposed', 'velocity', 'stray'];
    for (const [i, [what, change, patterns]] of cases.entries()) {
      const folder = await variant(names[i], change);
      const before = snapshot(folder);
      await rejectsNamed(t, resume(folder), CheckpointError, patterns, what);
      t.ok(sameFiles(snapshot(folder), before), `${what}: the folder is unchanged`);
    }
    const r = cli(['train', '--resume', '--out', join(dir, 'json')]);
    failsWith(t, r, CheckpointError, 1, [/json\/checkpoint\.safetensors/, /not JSON/], 'the CLI on a state that is not JSON');
    rmSync(dir, { recursive: true, force: true });
  });

  // 7. Ctrl-C -----------------------------------------------------------------------------------

  test('cli: Ctrl-C stops a run after the step under way: exit 130, one line naming the step and what the folder holds; --resume ends at an uninterrupted run\'s weights', async (t) => {
    const dir = tempDir();
    // 32 steps an epoch, of ~10 ms each: the SIGINT lands in epoch 2 or 3, after a checkpoint
    const args = ['train', ...TINY, '--batch', '8', '--limit', '256', '--epochs', '3'];
    const out = join(dir, 'stopped');
    const run = cliWatched([...args, '--out', out]);
    t.ok(await run.waitFor('stdout', /^epoch 2\/3 step \d+\/32 /m), 'the run reached epoch 2');
    run.child.kill('SIGINT');
    const r = await run.done;
    const last = lines(r.stdout).pop() ?? '';
    const m = /^stopped by Ctrl-C after step (\d+) of epoch (\d+); (.+)\/checkpoint\.safetensors holds epoch (\d+); --resume continues$/.exec(last);
    t.ok(r.code === 130 && m && m[3] === out && Number(m[4]) === Number(m[2]) - 1, `exit ${r.code} (expected 130): ${last}`);
    t.ok(/^Ctrl-C: stopping after the step under way \(Ctrl-C again quits at once\)$/m.test(r.stderr) && !/^error:/m.test(r.stderr), `stderr says it is stopping, and no error: ${lines(r.stderr).join(' | ')}`);
    const E = Number(m?.[2]);
    t.equal((await stateOf(join(out, 'checkpoint.safetensors'))).history.length, E - 1, `the checkpoint holds the last whole epoch (${E - 1})`);
    t.notOk(existsSync(join(out, 'model.safetensors')), 'no model.safetensors from mid-epoch weights');
    t.deepEqual(readdirSync(out).filter((f) => f.startsWith(RUN_FILE)), [], 'the lock is released');

    const resumed = cli(['train', '--out', out, '--resume']);
    t.ok(resumed.code === 0 && new RegExp(`resumed from .*: epoch ${E - 1} of 3`).test(resumed.stdout), `--resume continues from epoch ${E - 1} and finishes: exit ${resumed.code}, ${lines(resumed.stdout).pop()}`);
    const whole = join(dir, 'whole');
    t.equal(cli([...args, '--out', whole]).code, 0, 'the same run, uninterrupted');
    const [a, b] = [await io.readSafetensors(join(out, 'model.safetensors')), await io.readSafetensors(join(whole, 'model.safetensors'))];
    const differ = [...b.tensors].filter(([name, w]) => !Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength).equals(
      Buffer.from(a.tensors.get(name)?.data.buffer ?? new ArrayBuffer(0), a.tensors.get(name)?.data.byteOffset, a.tensors.get(name)?.data.byteLength)));
    t.ok(a.tensors.size === b.tensors.size && differ.length === 0, `stopped at step ${m?.[1]} of epoch ${E} and resumed: the weights of the uninterrupted run, bit for bit (${differ.length} of ${b.tensors.size} tensors differ)`);
    rmSync(dir, { recursive: true, force: true });
  });

  test('cli: a second Ctrl-C exits at once (exit 130, no closing line) and leaves a checkpoint that resumes', async (t) => {
    const dir = tempDir();
    const out = join(dir, 'run');
    const run = cliWatched(['train', ...TINY, '--batch', '8', '--limit', '256', '--epochs', '20', '--out', out]);
    t.ok(await run.waitFor('stdout', /^epoch 2\/20 step \d+\/32 /m), 'the run reached epoch 2');
    run.child.kill('SIGINT');
    t.ok(await run.waitFor('stderr', /Ctrl-C: stopping/), 'the first Ctrl-C is taken');
    // fit still finishes its step and validates the weights it leaves: the second lands before
    run.child.kill('SIGINT');
    const r = await run.done;
    t.ok(r.code === 130 && !/stopped by Ctrl-C/.test(r.stdout), `exit ${r.code} (expected 130) with no closing line: ${lines(r.stdout).pop()}`);
    const next = cli(['train', '--out', out, '--resume', '--epochs', '2']);
    t.equal(next.code, 0, `the checkpoint it left resumes (its lock taken over): ${lines(next.stdout).pop()}`);
    rmSync(dir, { recursive: true, force: true });
  });
}
