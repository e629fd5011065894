/**
 * The two sides of the benchmark page (examples/web/bench.ts): tfjs 4.22 with its webgl,
 * webgpu and wasm backends, all registered in this page (tfjs-backend-wasm's .wasm files are
 * copied by scripts/build-web.mjs into dist/web/tfjs-wasm/), and verydeep's modes, opened by
 * setBackend; and what the page says about the machine (the GPU's renderer, the browser).
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients (the @tensorflow/tfjs umbrella package does): the training step needs them
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths, setThreadsCount, getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { setBackend, type Mode } from '../../lib/core/backend.js';
import type { Tf } from '../../bench/layouts.js';

export type TfBackend = 'webgl' | 'webgpu' | 'wasm';

/** Each of our modes against the tfjs backend that runs on the same hardware. */
export const PAIRINGS: { ours: Mode; tfjs: TfBackend }[] = [
  { ours: 'webgl2', tfjs: 'webgl' },
  { ours: 'webgpu', tfjs: 'webgpu' },
  { ours: 'wasm', tfjs: 'wasm' },
  { ours: 'webasm', tfjs: 'wasm' },
];

setWasmPaths(new URL('./tfjs-wasm/', location.href).href);
// tfjs-wasm's default pool is half the logical cores (it assumes SMT); our webasm and wasm
// modes use every core, so tfjs gets them too (the page is cross-origin isolated: threads work)
setThreadsCount(navigator.hardwareConcurrency || 1);

/** Switches tfjs to `backend`; throws with tfjs's reason when it cannot start here. */
export async function useTfjs(backend: TfBackend): Promise<{ tf: Tf; describe: string }> {
  let ok = false;
  try {
    ok = await tf.setBackend(backend);
  } catch (e) {
    throw new Error(`tfjs setBackend('${backend}') failed: ${(e as Error).message}`);
  }
  if (!ok) throw new Error(`tfjs setBackend('${backend}') returned false (the backend cannot start in this browser)`);
  await tf.ready();
  const extra = backend === 'wasm'
    ? `, SIMD ${await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')}, threads supported ${await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')}, ${getThreadsCount()} thread(s)`
    : backend === 'webgl' ? `, WebGL ${tf.env().getNumber('WEBGL_VERSION')}, float32 textures ${tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED')}` : '';
  return { tf: tf as unknown as Tf, describe: `tfjs ${tf.version_core} ${backend}${extra}` };
}

/** Opens our `mode`: its BackendInfo reason, or the BackendError's message (the row then says it). */
export async function useOurs(mode: Mode): Promise<{ ok: true; reason: string } | { ok: false; error: string }> {
  try {
    return { ok: true, reason: (await setBackend(mode)).reason };
  } catch (e) {
    return { ok: false, error: `${(e as Error).name}: ${(e as Error).message}` };
  }
}

/** The machine as the page sees it: the WebGL renderer, the WebGPU adapter, the browser. */
export async function environment(): Promise<{ webgl: string; webgpu: string; userAgent: string; cores: number; isolated: boolean }> {
  let webgl = 'no WebGL 2 context';
  try {
    const gl = document.createElement('canvas').getContext('webgl2');
    if (gl) {
      const info = gl.getExtension('WEBGL_debug_renderer_info');
      webgl = info ? `${gl.getParameter(info.UNMASKED_VENDOR_WEBGL)}, ${gl.getParameter(info.UNMASKED_RENDERER_WEBGL)}` : String(gl.getParameter(gl.RENDERER));
      gl.getExtension('WEBGL_lose_context')?.loseContext();
    }
  } catch (e) {
    webgl = `WebGL 2 failed: ${(e as Error).message}`;
  }
  let webgpu = 'no navigator.gpu';
  const gpu = (navigator as any).gpu;
  if (gpu) {
    try {
      const adapter = await gpu.requestAdapter();
      const info = adapter ? (adapter.info ?? (await adapter.requestAdapterInfo?.())) : null;
      webgpu = !adapter ? 'no WebGPU adapter' : info ? [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(', ') || 'adapter without info' : 'adapter without info';
    } catch (e) {
      webgpu = `WebGPU failed: ${(e as Error).message}`;
    }
  }
  return { webgl, webgpu, userAgent: navigator.userAgent, cores: navigator.hardwareConcurrency || 1, isolated: crossOriginIsolated };
}
