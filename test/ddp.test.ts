/**
 * examples/pytorch-ddp run for real (issue #14), where Debian's python3-torch and
 * dataset-fashion-mnist are installed: export.js writes a verydeep VGG-A (width 0.25, 32×32,
 * FC 256) with torchvision names; torchrun starts two gloo processes on localhost that train
 * it with DistributedDataParallel for 5 steps of 32 images each on Fashion-MNIST; the weights
 * come back, changed, with their metadata; evaluate.js (verydeep) and evaluate_torch.py give
 * the same logits on the first 64 test images to 1e-4 and the same top-1 classes.
 *
 * Skipped with a `# skipped` comment (a failure under VERYDEEP_REQUIRE_INTEROP=1) where torch
 * or the Fashion-MNIST files are missing. Its files are under test-results/interop/pytorch-ddp.
 */
import test from 'tape';
import type { Test } from 'tape';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { io } from '../lib/index.js';
import { missingFashionMnistFiles, FASHION_MNIST_DIR } from '../lib/data/datasets.js';
import { PYTHON, interopAvailable, interopDir, interopFigures, relMaxError, runPython } from './interop-helpers.js';

const execFileAsync = promisify(execFile);
/** the example's sources (the Python scripts) and its compiled TypeScript, from dist/test/ */
const SOURCE = fileURLToPath(new URL('../../examples/pytorch-ddp/', import.meta.url));
const COMPILED = fileURLToPath(new URL('../examples/pytorch-ddp/', import.meta.url));
const STEPS = 5, BATCH = 32, IMAGES = 64;

/** a TCP port free on localhost now, for torchrun's rendezvous (a fixed one would collide with parallel runs) */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** runs a command; resolves to its stdout, or rejects with the last lines of its stderr */
async function run(file: string, args: string[], timeoutS: number): Promise<string> {
  try {
    const { stdout } = await execFileAsync(file, args, {
      env: { ...process.env, OMP_NUM_THREADS: '1', CUDA_VISIBLE_DEVICES: '', PYTHONDONTWRITEBYTECODE: '1' },
      timeout: timeoutS * 1000, maxBuffer: 64 << 20,
    });
    return stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string; code?: number | string; signal?: string };
    throw new Error(`${file} ${args.join(' ')} exited with ${err.signal ?? err.code}: ${(err.stderr ?? err.message).split('\n').filter((l) => l.trim()).slice(-20).join('\n')}`);
  }
}

/** the last line of `stdout` that is a JSON object */
function lastJson(stdout: string): Record<string, unknown> {
  const line = stdout.split('\n').filter((l) => l.trim().startsWith('{')).pop();
  if (!line) throw new Error(`no JSON line in: ${stdout.slice(-500)}`);
  return JSON.parse(line);
}

/** the skip rule of interopAvailable, for the Fashion-MNIST files */
function fashionAvailable(t: Test): boolean {
  const missing = missingFashionMnistFiles();
  if (!missing.length) return true;
  const why = `Fashion-MNIST is not in ${FASHION_MNIST_DIR} (${missing.join(', ')} missing; Debian: dataset-fashion-mnist)`;
  if (process.env.VERYDEEP_REQUIRE_INTEROP === '1') t.fail(`VERYDEEP_REQUIRE_INTEROP=1 but ${why}`);
  else t.comment(`skipped: ${why}`);
  return false;
}

export function registerDdpTests(): void {
  test('pytorch-ddp: export with torchvision names, 2 gloo processes under torchrun, the weights back; verydeep and torch agree on them', async (t) => {
    if (!interopAvailable(t) || !fashionAvailable(t)) { t.end(); return; }
    const dir = interopDir('pytorch-ddp');
    rmSync(dir, { recursive: true, force: true });
    interopDir('pytorch-ddp');
    const exported = join(dir, 'exported.safetensors'), trained = join(dir, 'trained.safetensors');

    // step 1: verydeep writes the net
    const exportLine = lastJson(await run(process.execPath, [join(COMPILED, 'export.js'), '--out', exported], 60));
    t.equal(exportLine.parameters, 678218, 'export.js: VGG-A at width 0.25, 32×32 grey inputs, FC 256, 10 classes');
    const before = await io.readSafetensors(exported);
    t.equal(before.metadata.naming, 'torchvision', 'exported with torchvision names');
    t.ok(before.tensors.has('features.0.weight') && before.tensors.has('classifier.6.bias'), 'features.N / classifier.N tensors');

    // a script started outside torchrun says how to start it
    await runPython(join(SOURCE, 'train_ddp.py'), ['--weights', exported, '--out', trained]).then(
      () => t.fail('train_ddp.py outside torchrun should exit with an error'),
      (e: Error) => t.match(e.message, /runs under torchrun/, 'train_ddp.py outside torchrun: names the launcher'));

    // step 2: two gloo processes on localhost (python3 -m torch.distributed.run is torchrun; see the README for --redirects/--tee)
    const port = await freePort();
    const started = Date.now();
    const ddp = lastJson(await run(PYTHON, ['-m', 'torch.distributed.run', '--redirects', '2', '--tee', '2', '--monitor_interval', '1',
      '--nproc_per_node', '2', '--master_addr', '127.0.0.1', '--master_port', String(port),
      join(SOURCE, 'train_ddp.py'), '--weights', exported, '--out', trained, '--steps', String(STEPS), '--batch', String(BATCH), '--seed', '1'], 120));
    const seconds = (Date.now() - started) / 1000;
    t.equal(ddp.world_size, 2, 'both ranks joined the process group');
    t.equal(ddp.backend, 'gloo', 'gloo on CPUs');
    t.equal(ddp.steps, STEPS, `${STEPS} SGD steps`);
    t.equal(ddp.global_batch, 2 * BATCH, `a global batch of 2 × ${BATCH}`);
    t.ok(Number.isFinite(ddp.final_loss), `a finite final loss (${ddp.final_loss})`);

    // the weights come back: the same names, shapes and metadata, every tensor moved
    const after = await io.readSafetensors(trained);
    t.deepEqual([...after.tensors.keys()].sort(), [...before.tensors.keys()].sort(), 'the same tensor names');
    for (const key of ['format', 'naming', 'vgg', 'preprocessing']) t.equal(after.metadata[key], before.metadata[key], `the '${key}' metadata survives`);
    t.equal(JSON.parse(after.metadata['pytorch-ddp']).steps, STEPS, "the 'pytorch-ddp' metadata records the run");
    const unchanged = [...before.tensors].filter(([name, a]) => {
      const b = after.tensors.get(name)!;
      return b.shape.join() !== a.shape.join() || a.data.every((v, i) => v === b.data[i]);
    }).map(([name]) => name);
    t.deepEqual(unchanged, [], 'every tensor has its shape and was changed by training');

    // step 3: both frameworks score the trained weights on the same test images
    const ours = lastJson(await run(process.execPath, [join(COMPILED, 'evaluate.js'), '--weights', trained, '--limit', String(IMAGES),
      '--count', String(IMAGES), '--logits', join(dir, 'logits-verydeep.json'), '--backend', 'wasm'], 120));
    const theirs = lastJson(await runPython(join(SOURCE, 'evaluate_torch.py'), ['--weights', trained, '--limit', String(IMAGES),
      '--count', String(IMAGES), '--logits', join(dir, 'logits-torch.json')], { timeoutS: 120, env: { OMP_NUM_THREADS: '1' } }));
    const a = JSON.parse(await readFile(join(dir, 'logits-verydeep.json'), 'utf8')), b = JSON.parse(await readFile(join(dir, 'logits-torch.json'), 'utf8'));
    t.deepEqual(a.labels, b.labels, 'the same test images, by their labels');
    const err = relMaxError(a.logits.flat(), b.logits.flat());
    t.equal(a.logits.flat().length, IMAGES * 10, `${IMAGES} × 10 logits`);
    t.ok(err <= 1e-4, `verydeep vs torch logits on ${IMAGES} test images: rel max err ${err.toExponential(2)} ≤ 1e-4`);
    t.deepEqual(a.predictions, b.predictions, 'the same top-1 class for every image');
    t.equal(ours.top1_error, theirs.top1_error, `the same top-1 error on the first ${IMAGES} test images (${ours.top1_error})`);
    interopFigures.push(`pytorch-ddp: 2 gloo processes × ${STEPS} steps of ${BATCH} in ${seconds.toFixed(1)} s (final loss ${Number(ddp.final_loss).toFixed(3)}); ` +
      `verydeep vs torch logits on ${IMAGES} test images rel max err ${err.toExponential(1)}, top-1 error ${ours.top1_error} on both`);
    t.end();
  });
}
