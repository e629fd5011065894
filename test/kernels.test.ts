/** The kernel checks (test/kernel-checks.ts) as tape tests, on every Node mode that runs here; and the registry that dispatches them. */
import test from 'tape';
import { setBackend, getBackendInfo, type Mode } from '../lib/core/backend.js';
import { KERNEL_FAMILIES, getKernel, registerKernel, registeredKernels } from '../kernels/registry.js';
import { defineKernelTests } from './kernel-checks.js';

export function registerKernelTests(modes: Mode[]): void {
  test('registry: one table keyed by backend and kernel; every catalogued pass is dispatched; a second registration throws', async (t) => {
    await setBackend('cpu');
    const gpujs = registeredKernels('gpujs');
    for (const f of KERNEL_FAMILIES) {
      for (const p of f.passes) t.ok(gpujs.includes(p.entry), `${f.family} / ${p.pass}: '${p.entry}' is registered for gpujs`);
    }
    try {
      registerKernel('gpujs', 'reluForward', getKernel('gpujs', 'reluForward')!);
      t.fail('a second registration of gpujs reluForward should throw');
    } catch (e) {
      t.ok(/already registered/.test((e as Error).message), `a second registration throws: ${(e as Error).message}`);
    }
    const cpu = getBackendInfo()!.kernels;
    t.ok(Object.values(cpu).every((where) => where === 'gpujs (cpu)'), 'on cpu, every kernel runs on gpujs (cpu)');
    if (modes.includes('wasm')) {
      await setBackend('wasm');
      const wasm = getBackendInfo()!.kernels;
      const own = registeredKernels('wasm');
      t.ok(own.includes('conv2dForward') && own.includes('sgdUpdate'), `the wasm backend registers ${own.length} kernels`);
      for (const name of gpujs) {
        t.equal(wasm[name], own.includes(name) ? 'wasm' : `gpujs (cpu), as wasm has no ${name}`, `on wasm, ${name} runs on ${wasm[name]}`);
      }
      t.deepEqual(gpujs.filter((n) => !own.includes(n)), [], 'the wasm backend registers every kernel: none falls back to gpu.js');
    }
  });
  defineKernelTests(modes, test);
}
