/**
 * The browser half of test/browser.test.ts. Bundled by scripts/build-web.mjs into
 * dist/web/kernel-checks.js and loaded by test/browser/checks.html inside Chromium, it sets
 * `window.verydeepChecks`:
 *
 *   kernels(mode)   the kernel checks of test/kernel-checks.ts (every family of
 *                   kernels/registry.ts, forward and every backward, against the float64
 *                   references, and the gradchecks), run on `mode` in this page (webgl2,
 *                   webgpu, or wasm: the fast path's WebAssembly in the page and its workers);
 *   network(mode)   a small VGG-A (every layer kind) forward and backward on `mode` against
 *                   the same on the 'cpu' mode: logits, loss and every parameter's gradient,
 *                   within GRAD_TOL (1e-4, normalized; float32 sums in another order).
 *
 * Each returns what it asserted and the errors it measured, for Node to report through tape.
 */
import { defineKernelTests } from '../kernel-checks.js';
import { checks, expectClose, randomArray, GRAD_TOL, type Assert, type CheckRecord } from '../helpers.js';
import { setBackend, type Mode, type BackendInfo } from '../../lib/core/backend.js';
import { Tensor, tidy } from '../../lib/core/tensor.js';
import * as ops from '../../lib/core/ops.js';
import { Vgg } from '../../lib/models/vgg.js';

export interface Assertion {
  test: string;
  ok: boolean;
  name: string;
}

export interface CheckReport {
  backend: BackendInfo;
  assertions: Assertion[];
  checks: CheckRecord[];
  seconds: number;
  /** calls that reached the browser's GPU APIs during the checks: proof of where the kernels ran (none on wasm) */
  gpuCalls: { webgl2Draws: number; webgpuDispatches: number };
}

/** Counts WebGL 2 draws and WebGPU compute dispatches (gpu.js launches a kernel with one of them). */
const gpuCalls = { webgl2Draws: 0, webgpuDispatches: 0 };
function count(proto: any, method: string, counter: keyof typeof gpuCalls): void {
  const original = proto?.[method];
  if (typeof original !== 'function') return;
  proto[method] = function (this: unknown, ...args: unknown[]) {
    gpuCalls[counter]++;
    return original.apply(this, args);
  };
}
count((globalThis as any).WebGL2RenderingContext?.prototype, 'drawArrays', 'webgl2Draws');
count((globalThis as any).GPUComputePassEncoder?.prototype, 'dispatchWorkgroups', 'webgpuDispatches');

/** tape's assertions, recorded instead of printed. */
class Recorder implements Assert {
  constructor(readonly test: string, readonly into: Assertion[]) {}
  private record(ok: boolean, name = '(unnamed assertion)'): void {
    this.into.push({ test: this.test, ok, name });
  }
  ok(value: unknown, msg?: string): void { this.record(!!value, msg); }
  equal(actual: unknown, expected: unknown, msg?: string): void {
    this.record(actual === expected, `${msg ?? 'equal'}${actual === expected ? '' : `: got ${String(actual)}, expected ${String(expected)}`}`);
  }
  deepEqual(actual: unknown, expected: unknown, msg?: string): void { this.record(sameJson(actual, expected), msg ?? 'deepEqual'); }
  notDeepEqual(actual: unknown, expected: unknown, msg?: string): void { this.record(!sameJson(actual, expected), msg ?? 'notDeepEqual'); }
  fail(msg?: string): void { this.record(false, msg); }
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

async function report(mode: Mode, body: (assertions: Assertion[]) => Promise<void>): Promise<CheckReport> {
  const started = performance.now();
  const backend = await setBackend(mode);
  checks.length = 0;
  const before = { ...gpuCalls };
  const assertions: Assertion[] = [];
  try {
    await body(assertions);
  } catch (e) {
    assertions.push({ test: 'uncaught', ok: false, name: `threw: ${(e as Error).stack ?? String(e)}` });
  }
  return {
    backend, assertions, checks: [...checks], seconds: (performance.now() - started) / 1000,
    gpuCalls: { webgl2Draws: gpuCalls.webgl2Draws - before.webgl2Draws, webgpuDispatches: gpuCalls.webgpuDispatches - before.webgpuDispatches },
  };
}

async function kernels(mode: Mode): Promise<CheckReport> {
  return report(mode, async (assertions) => {
    const tests: [string, (t: Assert) => Promise<void>][] = [];
    defineKernelTests([mode], (name, fn) => tests.push([name, fn]));
    for (const [name, fn] of tests) {
      try {
        await fn(new Recorder(name, assertions));
      } catch (e) {
        assertions.push({ test: name, ok: false, name: `threw: ${(e as Error).stack ?? String(e)}` });
      }
    }
  });
}

/** A VGG-A at 1/16 width on two 32×32 one-channel images: logits, loss and every gradient. */
async function vggForwardBackward(): Promise<{ name: string; values: Float32Array }[]> {
  const model = Vgg.configA({ numClasses: 10, inputChannels: 1, inputSize: 32, widthMultiplier: 1 / 16, fcWidth: 16, init: 'glorot', seed: 3 });
  const x = Tensor.from(randomArray(2 * 32 * 32, 41, 100), [2, 1, 32, 32]);
  const out = await tidy(async () => {
    const logits = model.forward(x);
    const loss = ops.softmaxCrossEntropy(logits, Int32Array.of(3, 7));
    await loss.backward();
    const grads = await Promise.all(model.namedParameters().map(async ([name, p]) => ({ name: `gradient of ${name}`, values: await p.grad!.data() })));
    return [{ name: 'logits', values: await logits.data() }, { name: 'loss', values: await loss.data() }, ...grads];
  });
  x.dispose();
  model.dispose();
  return out;
}

const NETWORK_FAMILY = 'VGG-A ×1/16 forward and backward, against the cpu mode';

async function network(mode: Mode): Promise<CheckReport> {
  await setBackend('cpu');
  const reference = await vggForwardBackward();
  return report(mode, async (assertions) => {
    const got = await vggForwardBackward();
    const t = new Recorder(NETWORK_FAMILY, assertions);
    reference.forEach((r, i) => {
      expectClose(t, got[i].values, r.values, { family: NETWORK_FAMILY, pass: i < 2 ? 'forward' : 'backward', mode, what: r.name }, GRAD_TOL);
    });
  });
}

(window as unknown as { verydeepChecks: unknown }).verydeepChecks = { kernels, network };
