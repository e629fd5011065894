/**
 * Tensors larger than 2^24 elements, on every mode: gpu.js indexes with float32, so the
 * launchers split such work into chunks (kernels/chunks.ts). Each test builds a tensor of
 * more than 16,777,216 elements and checks values on both sides of every chunk boundary
 * and at the very end against the float64 reference.
 */
import test from 'tape';
import { setBackend, MAX_KERNEL_ELEMENTS, type Mode } from '../lib/core/backend.js';
import { Tensor } from '../lib/core/tensor.js';
import * as ops from '../lib/core/ops.js';
import { expectClose } from './helpers.js';

const BIG = MAX_KERNEL_ELEMENTS + 4099;

/** a deterministic pattern with small integers, exact in float32 */
function pattern(n: number, mod: number, offset = 0): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = ((i * 7 + offset) % mod) - (mod >> 1);
  return a;
}

/** the indices worth checking: the ends and both sides of each multiple of `every` */
function probes(n: number, every: number): number[] {
  const out = new Set<number>([0, 1, n - 2, n - 1]);
  for (let k = every; k < n; k += every) for (const d of [-2, -1, 0, 1]) if (k + d >= 0 && k + d < n) out.add(k + d);
  return [...out].sort((a, b) => a - b);
}

export function registerLargeTests(modes: Mode[]): void {
  for (const mode of modes) {
    test(`[${mode}] tensors above 2^24 elements: relu, sum, conv2d, linear`, async (t) => {
      await setBackend(mode);
      // relu and sum over a flat tensor of 2^24 + 4099 elements
      const x = pattern(BIG, 13);
      const y = await ops.relu(Tensor.from(x)).data();
      const idx = probes(BIG, MAX_KERNEL_ELEMENTS - 1);
      expectClose(t, idx.map((i) => y[i]), idx.map((i) => Math.max(0, x[i])), { family: 'ReLU', pass: 'forward', mode, what: `${BIG} elements (> 2^24)` });
      let s = 0;
      for (let i = 0; i < BIG; i++) s += x[i];
      expectClose(t, [await ops.sum(Tensor.from(x)).item()], [s], { family: 'add, mul, scale, sum', pass: 'forward', mode, what: `sum of ${BIG} elements` });

      // conv2d on a batch whose input holds 3 × 1 × 2400 × 2400 = 17,280,000 elements
      const d = { N: 3, H: 2400, W: 2400 };
      const xc = pattern(d.N * d.H * d.W, 5, 1);
      const w = Float32Array.of(1, 0, 2, 0, 1, 0, -1, 0, 1);
      const conv = ops.conv2d(Tensor.from(xc, [d.N, 1, d.H, d.W], { requiresGrad: true }), Tensor.from(w, [1, 1, 3, 3], { requiresGrad: true }), Tensor.from([0.5], [1], { requiresGrad: true }));
      const yc = await conv.data();
      const at = (n: number, r: number, c: number) => (r < 0 || c < 0 || r >= d.H || c >= d.W ? 0 : xc[(n * d.H + r) * d.W + c]);
      const convProbe = probes(yc.length, d.H * d.W).concat([d.H * d.W * 2 + 12345]);
      const convRef = convProbe.map((i) => {
        const n = Math.floor(i / (d.H * d.W)), r = Math.floor((i % (d.H * d.W)) / d.W), c = i % d.W;
        let v = 0.5;
        for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) v += w[ky * 3 + kx] * at(n, r + ky - 1, c + kx - 1);
        return v;
      });
      expectClose(t, convProbe.map((i) => yc[i]), convRef, { family: 'conv2d 3×3 and 1×1', pass: 'forward', mode, what: 'input [3, 1, 2400, 2400] (> 2^24)' });
      const [xT, wT, bT] = conv.node!.inputs;
      await conv.backward(Tensor.from(new Float32Array(yc.length).fill(1), conv.shape));
      // dy = 1: dw[ky,kx] = Σ of the input over the window that tap reads; dx = Σ of the taps that reach the pixel
      const dwRef = w.map((_, k) => {
        const ky = Math.floor(k / 3) - 1, kx = (k % 3) - 1;
        let v = 0;
        for (let n = 0; n < d.N; n++) for (let r = 0; r < d.H; r++) for (let c = 0; c < d.W; c++) v += at(n, r + ky, c + kx);
        return v;
      });
      expectClose(t, await wT.grad!.data(), dwRef, { family: 'conv2d 3×3 and 1×1', pass: 'backward weight', mode, what: 'input [3, 1, 2400, 2400] (> 2^24)' });
      expectClose(t, await bT.grad!.data(), [d.N * d.H * d.W], { family: 'conv2d 3×3 and 1×1', pass: 'backward bias', mode, what: 'input [3, 1, 2400, 2400] (> 2^24)' });
      const dxc = await xT.grad!.data();
      const dxRef = (i: number) => {
        const r = Math.floor((i % (d.H * d.W)) / d.W), c = i % d.W;
        let v = 0;
        for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) {
          const orow = r - ky + 1, ocol = c - kx + 1;
          if (orow >= 0 && orow < d.H && ocol >= 0 && ocol < d.W) v += w[ky * 3 + kx];
        }
        return v;
      };
      expectClose(t, convProbe.map((i) => dxc[i]), convProbe.map(dxRef), { family: 'conv2d 3×3 and 1×1', pass: 'backward input', mode, what: 'input [3, 1, 2400, 2400] (> 2^24)' });

      // linear with a weight of 4097 × 4096 = 16,781,312 elements (> 2^24), like FC6's 102 M
      const L = { N: 2, In: 4096, Out: 4097 };
      const xl = pattern(L.N * L.In, 7, 2);
      const wl = pattern(L.Out * L.In, 3, 5);
      const xt = Tensor.from(xl, [L.N, L.In], { requiresGrad: true });
      const wt = Tensor.from(wl, [L.Out, L.In], { requiresGrad: true });
      const yl = ops.linear(xt, wt, null);
      const ylv = await yl.data();
      const outs = [0, 1, 4095, 4096, L.Out + 0, L.Out + 4095, L.Out + 4096];
      const linRef = outs.map((k) => {
        const n = Math.floor(k / L.Out), o = k % L.Out;
        let v = 0;
        for (let i = 0; i < L.In; i++) v += xl[n * L.In + i] * wl[o * L.In + i];
        return v;
      });
      expectClose(t, outs.map((k) => ylv[k]), linRef, { family: 'fully connected', pass: 'forward', mode, what: 'weight [4097, 4096] (> 2^24)' });
      await yl.backward(Tensor.from(new Float32Array(L.N * L.Out).fill(1), yl.shape));
      const dwl = await wt.grad!.data();
      const dxl = await xt.grad!.data();
      // dy = 1: dw[o, i] = Σ_n x[n, i];  dx[n, i] = Σ_o w[o, i]
      const wIdx = probes(dwl.length, MAX_KERNEL_ELEMENTS - 1);
      expectClose(t, wIdx.map((k) => dwl[k]), wIdx.map((k) => xl[k % L.In] + xl[L.In + (k % L.In)]), { family: 'fully connected', pass: 'backward weight', mode, what: 'weight [4097, 4096] (> 2^24)' });
      const colSum = (i: number) => { let v = 0; for (let o = 0; o < L.Out; o++) v += wl[o * L.In + i]; return v; };
      const xIdx = [0, 1, 2047, 4095, 4096, 8191];
      expectClose(t, xIdx.map((k) => dxl[k]), xIdx.map((k) => colSum(k % L.In)), { family: 'fully connected', pass: 'backward input', mode, what: 'weight [4097, 4096] (> 2^24)' });
    });
  }
}
