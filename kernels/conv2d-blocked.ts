/**
 * Register-blocked 3×3 convolution kernels: each gpu.js thread computes four neighbouring
 * outputs of one row and returns them together (gpu.js's 'Array(4)' return type), where the
 * mode supports it (vec4Outputs: every mode here). On the GL modes the input channels also
 * travel in groups of four (vec4Inputs), packed by a kernel whose result stays on the GPU
 * (pipeline mode), so one texture read yields four values. webgpu runs the blocked kernel
 * without packing (gpu.js reads no four-value buffers there); cpu and webasm too.
 *
 * Why: in a shader a read from an argument costs more than the arithmetic. gpu.js turns
 * each `a[i]` into a texel address computed with integer divisions and a texture fetch. The
 * one-output kernel makes two reads per multiply-add; the blocked one 0.75; the packed one
 * 0.19. Measured on webgl2 in headless Chromium on SwiftShader (64→64 channels, 56×56, one
 * image, host array to host array, medians of 5): 6.6 s for the one-output kernel, 0.41 s
 * packed, tfjs-webgl 0.26 s (issue #17, 2026-12-06; 128@28 and 256@14 alike).
 *
 * Layouts are conv2d.ts's (NCHW); the blocked launches compute rows padded to WP, the width
 * rounded up to a multiple of 4, and drop the padding on the host.
 */
import { runKernel, runKernelOnGpu, vec4Outputs, vec4Inputs, LOOP_BUDGET, MAX_KERNEL_ELEMENTS } from './gpujs.js';
import { chunksOf } from './chunks.js';
import { BackendError } from './errors.js';
import type { Conv2dDims } from './dims.js';

/** the kernels' constants for a launch of `n` images */
export function constantsFor(d: Conv2dDims, n: number): Record<string, number> {
  return { N: n, Cin: d.Cin, Cout: d.Cout, H: d.H, W: d.W, K: d.K, P: (d.K - 1) / 2 };
}

/** chunks of whole images below 2^24 elements, counting rows of `width` (the padded width of a blocked launch) */
export function imageChunks(d: Conv2dDims, where: string, width = d.W) {
  const loops = Math.max(d.Cin, d.Cout) * (1 + d.K * (1 + d.K)); // iterations of one forward / input-gradient thread
  if (loops > LOOP_BUDGET) throw new BackendError(`${where}: ${Math.max(d.Cin, d.Cout)} channels with a ${d.K}×${d.K} kernel exceed one kernel's loop budget (${LOOP_BUDGET} iterations)`);
  return chunksOf(d.N, Math.max(d.Cin, d.Cout) * d.H * width, where);
}

/**
 * forward, register-blocked (K = 3): thread = four neighbouring outputs (n, co, y,
 * x0..x0+3) of an output whose rows are padded to WP, the width rounded up to a multiple
 * of 4 (flat outputs 4t..4t+3; the launcher drops the padding columns). Per
 * input channel and kernel row the thread reads six inputs and three weights for twelve
 * multiply-adds, where four one-output threads read 24 values: texture reads, not the
 * arithmetic, are what a shader pays for (the reads outside the image are skipped, never
 * made: an out-of-bounds read differs per mode, GPUJS.md trap 6).
 */
function conv2dForward3x4Kernel(this: any, x: number[], w: number[], b: number[]): number[] {
  const W4 = this.constants.WP / 4;
  const t = this.thread.x;
  const row = Math.floor(t / W4); // (n*Cout + co)*H + y
  const x0 = (t - row * W4) * 4;
  const nco = Math.floor(row / this.constants.H);
  const oy = row - nco * this.constants.H;
  const n = Math.floor(nco / this.constants.Cout);
  const co = nco - n * this.constants.Cout;
  const bias = b[co];
  let s0 = bias;
  let s1 = bias;
  let s2 = bias;
  let s3 = bias;
  for (let ci = 0; ci < this.constants.Cin; ci++) {
    const xPlane = (n * this.constants.Cin + ci) * this.constants.H;
    const wBase = (co * this.constants.Cin + ci) * 9;
    for (let ky = 0; ky < 3; ky++) {
      const iy = oy + ky - 1;
      if (iy >= 0 && iy < this.constants.H) {
        const xi = (xPlane + iy) * this.constants.W + x0;
        let vl = 0;
        if (x0 > 0) vl = x[xi - 1];
        const v0 = x[xi];
        let v1 = 0;
        if (x0 + 1 < this.constants.W) v1 = x[xi + 1];
        let v2 = 0;
        if (x0 + 2 < this.constants.W) v2 = x[xi + 2];
        let v3 = 0;
        if (x0 + 3 < this.constants.W) v3 = x[xi + 3];
        let vr = 0;
        if (x0 + 4 < this.constants.W) vr = x[xi + 4];
        const wk = wBase + ky * 3;
        const w0 = w[wk];
        const w1 = w[wk + 1];
        const w2 = w[wk + 2];
        s0 += w0 * vl + w1 * v0 + w2 * v1;
        s1 += w0 * v0 + w1 * v1 + w2 * v2;
        s2 += w0 * v1 + w1 * v2 + w2 * v3;
        s3 += w0 * v2 + w1 * v3 + w2 * vr;
      }
    }
  }
  return [s0, s1, s2, s3];
}

/**
 * forward on the GL modes, register-blocked and channel-packed (K = 3): thread = four
 * neighbouring outputs like conv2dForward3x4Kernel, but `x` and `w` arrive as groups of
 * four input channels (packConvInputKernel, packFiltersKernel: their results stay on the
 * GPU), so one texture read yields four values: per group of four input channels and
 * kernel row, six reads of x and three of w for 48 multiply-adds (the one-output kernel
 * makes 96 reads for them). The pack gives x a zero border (rows of WP + 2, H + 2 rows),
 * so no read needs a bounds test.
 */
function conv2dForwardPackedKernel(this: any, x: number[][], w: number[][], b: number[]): number[] {
  const W4 = this.constants.WP / 4;
  const t = this.thread.x;
  const row = Math.floor(t / W4); // (n*Cout + co)*H + y
  const x0 = (t - row * W4) * 4;
  const nco = Math.floor(row / this.constants.H);
  const oy = row - nco * this.constants.H;
  const n = Math.floor(nco / this.constants.Cout);
  const co = nco - n * this.constants.Cout;
  const bias = b[co];
  let s0 = bias;
  let s1 = bias;
  let s2 = bias;
  let s3 = bias;
  for (let c4 = 0; c4 < this.constants.C4; c4++) {
    const xPlane = (n * this.constants.C4 + c4) * (this.constants.H + 2);
    const wBase = (co * this.constants.C4 + c4) * 9;
    for (let ky = 0; ky < 3; ky++) {
      const xi = (xPlane + oy + ky) * (this.constants.WP + 2) + x0; // the padded column x0 is image column x0 - 1
      const wk = wBase + ky * 3;
      const a = w[wk];
      const c = w[wk + 1];
      const e = w[wk + 2];
      const vl = x[xi];
      const v0 = x[xi + 1];
      const v1 = x[xi + 2];
      const v2 = x[xi + 3];
      const v3 = x[xi + 4];
      const vr = x[xi + 5];
      s0 += a[0] * vl[0] + a[1] * vl[1] + a[2] * vl[2] + a[3] * vl[3] + c[0] * v0[0] + c[1] * v0[1] + c[2] * v0[2] + c[3] * v0[3] + e[0] * v1[0] + e[1] * v1[1] + e[2] * v1[2] + e[3] * v1[3];
      s1 += a[0] * v0[0] + a[1] * v0[1] + a[2] * v0[2] + a[3] * v0[3] + c[0] * v1[0] + c[1] * v1[1] + c[2] * v1[2] + c[3] * v1[3] + e[0] * v2[0] + e[1] * v2[1] + e[2] * v2[2] + e[3] * v2[3];
      s2 += a[0] * v1[0] + a[1] * v1[1] + a[2] * v1[2] + a[3] * v1[3] + c[0] * v2[0] + c[1] * v2[1] + c[2] * v2[2] + c[3] * v2[3] + e[0] * v3[0] + e[1] * v3[1] + e[2] * v3[2] + e[3] * v3[3];
      s3 += a[0] * v2[0] + a[1] * v2[1] + a[2] * v2[2] + a[3] * v2[3] + c[0] * v3[0] + c[1] * v3[1] + c[2] * v3[2] + c[3] * v3[3] + e[0] * vr[0] + e[1] * vr[1] + e[2] * vr[2] + e[3] * vr[3];
    }
  }
  return [s0, s1, s2, s3];
}

/**
 * x [N, C, H, W] as groups of four channels with a zero border, on the GPU: thread = one
 * group of [N, C4, H + 2, WP + 2], C4 = ceil(C / 4) (the missing channels are zeros). Its
 * result stays on the GPU as the packed kernel's input (runKernelOnGpu).
 */
function packConvInputKernel(this: any, x: number[]): number[] {
  const RW = this.constants.WP + 2;
  const RH = this.constants.H + 2;
  const HW = this.constants.H * this.constants.W;
  const t = this.thread.x;
  const row = Math.floor(t / RW); // (n*C4 + c4)*(H + 2) + py
  const px = t - row * RW;
  const plane = Math.floor(row / RH);
  const py = row - plane * RH;
  const n = Math.floor(plane / this.constants.C4);
  const c = (plane - n * this.constants.C4) * 4;
  const iy = py - 1;
  const ix = px - 1;
  let v0 = 0;
  let v1 = 0;
  let v2 = 0;
  let v3 = 0;
  if (iy >= 0 && iy < this.constants.H && ix >= 0 && ix < this.constants.W) {
    const at = ((n * this.constants.C + c) * this.constants.H + iy) * this.constants.W + ix;
    v0 = x[at];
    if (c + 1 < this.constants.C) v1 = x[at + HW];
    if (c + 2 < this.constants.C) v2 = x[at + 2 * HW];
    if (c + 3 < this.constants.C) v3 = x[at + 3 * HW];
  }
  return [v0, v1, v2, v3];
}

/**
 * 3×3 filters as groups of four along one channel axis, on the GPU: thread = (outer, g, k)
 * of [OUTER, G4, 9], the group's values w[outer·SO + (4g + j)·SG + tap] with tap = k, or
 * 8 - k when TURN (the kernel turned by 180°), zeros past G. Forward: outer = co, groups
 * of input channels (SO = Cin·9, SG = 9). Input gradient: outer = ci, groups of output
 * channels (SO = 9, SG = Cin·9), turned.
 */
function packFiltersKernel(this: any, w: number[]): number[] {
  const t = this.thread.x;
  const outer = Math.floor(t / (this.constants.G4 * 9));
  const r = t - outer * this.constants.G4 * 9;
  const g = Math.floor(r / 9);
  const k = r - g * 9;
  let tap = k;
  if (this.constants.TURN > 0) tap = 8 - k;
  const at = outer * this.constants.SO + g * 4 * this.constants.SG + tap;
  let v0 = w[at];
  let v1 = 0;
  let v2 = 0;
  let v3 = 0;
  if (g * 4 + 1 < this.constants.G) v1 = w[at + this.constants.SG];
  if (g * 4 + 2 < this.constants.G) v2 = w[at + 2 * this.constants.SG];
  if (g * 4 + 3 < this.constants.G) v3 = w[at + 3 * this.constants.SG];
  return [v0, v1, v2, v3];
}

/**
 * gradient to the input, register-blocked like the forward (K = 3, rows padded to WP):
 * thread = four neighbouring input elements (n, ci, y, x0..x0+3); the same six-reads-per-
 * row pattern over dy, with the kernel row reversed (dx[x] takes dy[x+1]·w[0] + dy[x]·w[1]
 * + dy[x-1]·w[2]).
 */
function conv2dBackwardInput3x4Kernel(this: any, dy: number[], w: number[]): number[] {
  const W4 = this.constants.WP / 4;
  const t = this.thread.x;
  const row = Math.floor(t / W4); // (n*Cin + ci)*H + y
  const x0 = (t - row * W4) * 4;
  const nci = Math.floor(row / this.constants.H);
  const iy = row - nci * this.constants.H;
  const n = Math.floor(nci / this.constants.Cin);
  const ci = nci - n * this.constants.Cin;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let co = 0; co < this.constants.Cout; co++) {
    const dyPlane = (n * this.constants.Cout + co) * this.constants.H;
    const wBase = (co * this.constants.Cin + ci) * 9;
    for (let ky = 0; ky < 3; ky++) {
      const oy = iy - ky + 1; // the output row that read x[iy] through tap ky
      if (oy >= 0 && oy < this.constants.H) {
        const gi = (dyPlane + oy) * this.constants.W + x0;
        let gl = 0;
        if (x0 > 0) gl = dy[gi - 1];
        const g0 = dy[gi];
        let g1 = 0;
        if (x0 + 1 < this.constants.W) g1 = dy[gi + 1];
        let g2 = 0;
        if (x0 + 2 < this.constants.W) g2 = dy[gi + 2];
        let g3 = 0;
        if (x0 + 3 < this.constants.W) g3 = dy[gi + 3];
        let gr = 0;
        if (x0 + 4 < this.constants.W) gr = dy[gi + 4];
        const wk = wBase + ky * 3;
        const w0 = w[wk];
        const w1 = w[wk + 1];
        const w2 = w[wk + 2];
        s0 += w0 * g1 + w1 * g0 + w2 * gl;
        s1 += w0 * g2 + w1 * g1 + w2 * g0;
        s2 += w0 * g3 + w1 * g2 + w2 * g1;
        s3 += w0 * gr + w1 * g3 + w2 * g2;
      }
    }
  }
  return [s0, s1, s2, s3];
}

/** `rows` rows of width WP (a blocked launch's output) copied into `out` at `at` as rows of width W */
function unpadRows(part: Float32Array, rows: number, W: number, WP: number, out: Float32Array, at: number): void {
  if (W === WP) {
    out.set(part, at);
    return;
  }
  for (let r = 0; r < rows; r++) out.set(part.subarray(r * WP, r * WP + W), at + r * W);
}

/**
 * Whether the register-blocked kernels apply: the 3×3 convolutions (all of VGG's but
 * config C's 1×1), on a mode that returns four values per thread (vec4Outputs).
 */
async function blocked(d: Conv2dDims): Promise<boolean> {
  return d.K === 3 && (await vec4Outputs());
}

/** Whether the channel-packed kernel applies: the blocked ones, on a mode that reads four-value groups (vec4Inputs: the GL modes). */
async function packed(d: Conv2dDims): Promise<boolean> {
  return (await blocked(d)) && (await vec4Inputs());
}

/**
 * The channel-packed 3×3 convolution (conv2dForwardPackedKernel) of `x` [N, Cin, H, W] with
 * packed filters `wp` (Cout groups), into `y` [N, Cout, H, W]: the forward, and with turned
 * filters the input gradient.
 */
async function packedConv(x: Float32Array, w: Float32Array, turned: boolean, b: Float32Array, Cin: number, Cout: number, d: Conv2dDims, y: Float32Array, where: string): Promise<void> {
  const WP = paddedWidth(d.W);
  const C4 = Math.ceil(Cin / 4);
  const inPer = Cin * d.H * d.W, outPer = Cout * d.H * d.W;
  // the packs stay on the GPU (pipeline mode): only the convolution's output is read back
  const filters = await runKernelOnGpu('packConvFilters', packFiltersKernel, Cout * C4 * 9 * 4,
    turned ? { G: Cin, G4: C4, SO: 9, SG: Cout * 9, TURN: 1 } : { G: Cin, G4: C4, SO: Cin * 9, SG: 9, TURN: 0 }, [w], { vec4: true });
  try {
    // per image: the packed input's groups (threads of the pack, texels read), the output, the input
    for (const { start, count } of chunksOf(d.N, packedPerImage(d, Cin, Cout), where)) {
      const xp = await runKernelOnGpu('packConvInput', packConvInputKernel, count * C4 * (d.H + 2) * (WP + 2) * 4, { N: count, C: Cin, C4, H: d.H, W: d.W, WP },
        [x.subarray(start * inPer, (start + count) * inPer)], { vec4: true });
      try {
        const part = await runKernel('conv2dForwardPacked', conv2dForwardPackedKernel, count * Cout * d.H * WP, { N: count, C4, Cout, H: d.H, W: d.W, WP },
          [xp, filters, b], { vec4: true });
        unpadRows(part, count * Cout * d.H, d.W, WP, y, start * outPer);
      } finally {
        xp.delete?.();
      }
    }
  } finally {
    filters.delete?.();
  }
}

/** what one image of a packed launch counts against 2^24: its packed groups, output and input elements */
const packedPerImage = (d: Conv2dDims, Cin: number, Cout: number) =>
  Math.max(Math.ceil(Cin / 4) * (d.H + 2) * (paddedWidth(d.W) + 2), Cout * d.H * paddedWidth(d.W), Cin * d.H * d.W);

/** the width rounded up to a multiple of 4: a blocked launch's rows (224, 112, 56, 28 stay; 14 → 16, 7 → 8) */
const paddedWidth = (W: number) => Math.ceil(W / 4) * 4;

/**
 * The forward on the blocked kernels into `y`, if they apply here (3×3, a mode with
 * four-value outputs); false: the caller runs the one-output kernel.
 */
export async function conv2dForwardBlocked(x: Float32Array, w: Float32Array, b: Float32Array, d: Conv2dDims, y: Float32Array): Promise<boolean> {
  const inPer = d.Cin * d.H * d.W;
  const outPer = d.Cout * d.H * d.W;
  if (packedPerImage(d, d.Cin, d.Cout) < MAX_KERNEL_ELEMENTS && await packed(d)) {
    await packedConv(x, w, false, b, d.Cin, d.Cout, d, y, 'conv2d');
    return true;
  }
  if (await blocked(d)) {
    const WP = paddedWidth(d.W);
    for (const { start, count } of imageChunks(d, 'conv2d', WP)) {
      const part = await runKernel('conv2dForward3x4', conv2dForward3x4Kernel, count * d.Cout * d.H * WP, { ...constantsFor(d, count), WP },
        [x.subarray(start * inPer, (start + count) * inPer), w, b], { vec4: true });
      unpadRows(part, count * d.Cout * d.H, d.W, WP, y, start * outPer);
    }
    return true;
  }
  return false;
}

/** The input gradient on the blocked kernels into `dx`, if they apply here; false: the caller runs the one-output kernel. */
export async function conv2dBackwardInputBlocked(dy: Float32Array, w: Float32Array, d: Conv2dDims, dx: Float32Array): Promise<boolean> {
  const inPer = d.Cin * d.H * d.W;
  const outPer = d.Cout * d.H * d.W;
  if (packedPerImage(d, d.Cout, d.Cin) < MAX_KERNEL_ELEMENTS && await packed(d)) {
    // dx is the forward convolution of dy with w transposed (Cout ↔ Cin) and turned by 180°
    await packedConv(dy, w, true, new Float32Array(d.Cin), d.Cout, d.Cin, d, dx, 'conv2d (backward input)');
    return true;
  }
  if (await blocked(d)) {
    const WP = paddedWidth(d.W);
    for (const { start, count } of imageChunks(d, 'conv2d (backward input)', WP)) {
      const part = await runKernel('conv2dBackwardInput3x4', conv2dBackwardInput3x4Kernel, count * d.Cin * d.H * WP, { ...constantsFor(d, count), WP },
        [dy.subarray(start * outPer, (start + count) * outPer), w], { vec4: true });
      unpadRows(part, count * d.Cin * d.H, d.W, WP, dx, start * inPer);
    }
    return true;
  }
  return false;
}
