/**
 * The WebAssembly fast path (kernels/wasm/fastpath.ts) against the float64 references of
 * kernels/conv2d.ts and kernels/linear.ts, every launcher, on both SIMD builds (relaxed
 * FMA and mul + add) and on 1 and 2 threads; tolerance KERNEL_TOL (test/helpers.ts).
 * Its memory-bound kernels (pointwise.as: ReLU, max-pool, add / mul / scale / sum, SGD,
 * dropout) against the references of kernels/relu.ts, maxpool2d.ts, elementwise.ts and
 * dropout.ts, on both builds; those that are exact in float32 must also equal the
 * reference rounded to float32, bit for bit. Lengths cross the SIMD width and several
 * blocks (FLAT_BLOCK, 2^15 floats); pooling shapes have odd sizes, ties, and planes bigger
 * than a block.
 * Softmax, cross-entropy and LRN (softmax-lrn.as, exp and log as f32x4 polynomials) against
 * the references of kernels/softmax.ts and lrn.ts on 1 and 2 threads: rows and planes that
 * are not multiples of 4, several pixel blocks, LRN split by pixels (batch 1) and by images,
 * windows wider than the channels, even windows, both α conventions, logits of ±1000.
 * Shapes cover odd sizes, batch > 1, a single channel, 1×1 and 3×3, M/N/K that are not
 * multiples of the 4×8 tile or the cache blocks, fewer channels than threads, jobs big
 * enough to run on 2 threads (above fastpath's 2^21 multiply-adds), several im2col bands
 * (the VGG shape) and several weight blocks (In·Out above 2^22). Each 3×3 convolution runs
 * four ways: 'auto' (Winograd from 16 channels in and out, F(4×4, 3×3) where it saves more
 * than F(2×2, 3×3)), and im2col, Winograd F(2×2) and Winograd F(4×4) forced on every shape
 * (single channel, 1×1 images, tiles past odd edges, several bands of tile rows; F(2×2) on
 * images under 7 columns takes the quad layout, four images to the SIMD lanes). Small images
 * with N > 1 run several to a GEMM, in one group or more. 'auto' must give the same bits as
 * the tile its rule picks: F(4×4) at 16×16, F(2×2) past WINOGRAD4_MAX_CHANNELS.
 */
import test from 'tape';
import { availableParallelism } from 'node:os';
import type { Mode } from '../lib/core/backend.js';
import * as conv from '../kernels/conv2d.js';
import * as fc from '../kernels/linear.js';
import * as relu from '../kernels/relu.js';
import * as pool from '../kernels/maxpool2d.js';
import * as ew from '../kernels/elementwise.js';
import * as drop from '../kernels/dropout.js';
import * as norm from '../kernels/lrn.js';
import * as sm from '../kernels/softmax.js';
import * as fast from '../kernels/wasm/fastpath.js';
import { expectClose, randomArray, rejectsNamed, type CheckRecord } from './helpers.js';
import { ValueError } from '../lib/core/errors.js';
import { allocate, release, settle, setPoolLimit, clearPool } from '../kernels/pool.js';
import type { Conv2dDims, LinearDims, MapDims } from '../kernels/dims.js';

/** a settled copy of w, as a tensor's parameter is: the fast path keeps its filters resident */
const settledCopy = (w: Float32Array) => {
  const copy = Float32Array.from(w);
  settle(copy);
  return copy;
};

/** the fast path is not a gpu.js mode; its checks are recorded under 'wasm' */
const mode = 'wasm' as unknown as Mode;
const CONV = 'conv2d 3×3 and 1×1';
const FC = 'fully connected';
const RELU = 'ReLU', POOL = 'max-pool 2×2', EW = 'add, mul, scale, sum', SGD = 'SGD momentum + weight decay', DROPOUT = 'dropout';

const CONV_SHAPES: Conv2dDims[] = [
  { N: 2, Cin: 3, Cout: 4, H: 5, W: 7, K: 3 }, // odd sizes, batch > 1
  { N: 1, Cin: 1, Cout: 1, H: 1, W: 1, K: 3 }, // single channel, every tap in the padding
  { N: 3, Cin: 2, Cout: 5, H: 4, W: 3, K: 1 }, // 1×1
  { N: 2, Cin: 33, Cout: 37, H: 19, W: 23, K: 3 }, // odd M, N, K above the tile, on 2 threads
  { N: 1, Cin: 1, Cout: 64, H: 97, W: 101, K: 3 }, // one input channel for 2 threads
  { N: 3, Cin: 130, Cout: 67, H: 17, W: 19, K: 1 }, // 1×1 on 2 threads, K = 130 not a multiple of 4
  { N: 1, Cin: 64, Cout: 64, H: 56, W: 56, K: 3 }, // VGG conv2_x at 112 px input: two im2col bands
  { N: 2, Cin: 16, Cout: 20, H: 15, W: 9, K: 3 }, // Winograd under 'auto': odd H and W, tiles past the edge
  { N: 1, Cin: 32, Cout: 32, H: 5, W: 2047, K: 3 }, // Winograd: three tile rows in two bands (WINOGRAD_BAND_FLOATS)
  { N: 3, Cin: 32, Cout: 32, H: 56, W: 56, K: 3 }, // Winograd: two images side by side in a band, then one
  { N: 5, Cin: 128, Cout: 24, H: 16, W: 16, K: 3 }, // small images, several to a GEMM: groups of 3 and 2 (im2col)
  { N: 4, Cin: 256, Cout: 40, H: 6, W: 5, K: 1 }, // 1×1 on small images, several to a GEMM
  { N: 3, Cin: 3, Cout: 8, H: 29, W: 31, K: 3 }, // a first layer: col has 27 rows, so images go several to a GEMM whatever their size
  { N: 2, Cin: 40, Cout: 6, H: 30, W: 30, K: 1 }, // 1×1 with few channels on bigger images: batched both ways
  { N: 2, Cin: 3, Cout: 4, H: 515, W: 513, K: 3 }, // a first layer too big for im2col's padded plane: row by row
  { N: 34, Cin: 16, Cout: 20, H: 4, W: 4, K: 3 }, // Winograd's quad layout under 'auto' (images one to a lane): 9 quads, the last half full
  { N: 5, Cin: 17, Cout: 18, H: 5, W: 6, K: 3 }, // the quad layout (forced) with tiles past odd edges and 4 + 1 images
  { N: 5, Cin: 28, Cout: 30, H: 48, W: 48, K: 3 }, // the Winograd weight gradient in two bands of images (4 + 1), the second accumulating
  { N: 2, Cin: 24, Cout: 20, H: 21, W: 37, K: 3 }, // Winograd F(4×4) under 'auto': 21 = 5·4 + 1 rows, 10 tiles to a row (12 in the row layout)
];

const LINEAR_SHAPES: LinearDims[] = [
  { N: 3, In: 7, Out: 5 },
  { N: 1, In: 1, Out: 1 },
  { N: 1, In: 1003, Out: 4099 }, // batch 1: gemvStream over eight rows at a time, K and M past the unrolling, on 2 threads
  { N: 1, In: 3, Out: 21 }, // gemvStream with K under one f32x4, M past 8 rows
  { N: 2, In: 1001, Out: 4103 }, // gemvBatch, two rows of x by four of w, M and K tails, on 2 threads
  { N: 4, In: 515, Out: 4101 }, // gemvBatch, four rows of x by two of w, one row of w left over, on 2 threads
  { N: 5, In: 333, Out: 101 },
  { N: 64, In: 1000, Out: 517 }, // on 2 threads
  { N: 3, In: 70001, Out: 67 }, // 4.7 M weights: two weight blocks
];

/** lengths of the element-wise kernels: less than one f32x4, odd, and several blocks of 2^15 plus a tail */
const FLAT_LENGTHS = [1, 7, 1001, 3 * 32768 + 5];

const POOL_SHAPES: MapDims[] = [
  { N: 2, C: 3, H: 5, W: 7 }, // odd H and W: the last row and column get no gradient
  { N: 1, C: 1, H: 2, W: 2 },
  { N: 4, C: 8, H: 32, W: 32 }, // VGG-A at 32 px: many planes per block, Wo a multiple of 4
  { N: 1, C: 3, H: 201, W: 203 }, // planes bigger than a block, Wo = 101 leaves a scalar tail
];

const dimsText = (d: object) => Object.entries(d).map(([k, v]) => `${k}=${v}`).join(' ');

/** inputs and float64 references of a shape, computed once for every build and thread count */
function memo<D, T>(make: (d: D) => T): (d: D) => T {
  const cache = new Map<D, T>();
  return (d) => {
    if (!cache.has(d)) cache.set(d, make(d));
    return cache.get(d)!;
  };
}

const convCase = memo((d: Conv2dDims) => {
  const x = randomArray(d.N * d.Cin * d.H * d.W, 1);
  const w = randomArray(d.Cout * d.Cin * d.K * d.K, 2);
  const b = randomArray(d.Cout, 3);
  const dy = randomArray(d.N * d.Cout * d.H * d.W, 4);
  return { x, w, b, dy, y: conv.conv2dForwardRef(x, w, b, d), ...conv.conv2dBackwardRef(dy, x, w, d) };
});

const linearCase = memo((d: LinearDims) => {
  const x = randomArray(d.N * d.In, 17), w = randomArray(d.Out * d.In, 18), b = randomArray(d.Out, 19);
  const dy = randomArray(d.N * d.Out, 20);
  return { x, w, b, dy, y: fc.linearForwardRef(x, w, b, d), ...fc.linearBackwardRef(dy, x, w, d) };
});

/** a check of a kernel that is exact in float32: within tolerance, and the float64 reference rounded to float32 */
function expectExact(t: test.Test, got: Float32Array, ref: ArrayLike<number>, r: Omit<CheckRecord, 'error' | 'tolerance'>): void {
  expectClose(t, got, ref, r);
  const want = Float32Array.from(ref);
  let differ = got.length === want.length ? 0 : Infinity;
  for (let i = 0; i < want.length && differ < Infinity; i++) if (got[i] !== want[i]) differ++;
  t.equal(differ, 0, `${r.family} ${r.pass} on ${r.mode} (${r.what}): equals the reference rounded to float32`);
}

export function registerFastPathTests(): void {
  test('[wasm] the fast path loads, with relaxed SIMD where V8 takes it', async (t) => {
    const info = await fast.initFastPath({ threads: 1 });
    t.ok(info.simd === 'relaxed' || info.simd === 'mul+add', `runs the ${info.simd} build`);
    t.equal(info.threads, 1, 'on the 1 thread asked for');
    t.deepEqual(fast.getFastPathInfo(), info, 'getFastPathInfo reports the same');
    t.equal((await fast.initFastPath({ simd: 'mul+add', threads: 2 })).simd, 'mul+add', 'the mul + add build can be forced');
    t.equal((await fast.initFastPath({})).threads, availableParallelism(), 'by default on every core the process may use');
  });

  test('[wasm] launchers started together run one after another (they share the memory)', async (t) => {
    await fast.initFastPath({ threads: 2 });
    const [a, b] = [CONV_SHAPES[3], CONV_SHAPES[5]];
    const [ca, cb] = [convCase(a), convCase(b)];
    const p = POOL_SHAPES[3], px = randomArray(p.N * p.C * p.H * p.W, 30), r = randomArray(FLAT_LENGTHS[3], 31);
    const [ya, py, dxb, ry, yb] = await Promise.all([fast.conv2dForward(ca.x, ca.w, ca.b, a), fast.maxPool2dForward(px, p),
      fast.conv2dBackwardInput(cb.dy, cb.w, b), fast.reluForward(r), fast.conv2dForward(cb.x, cb.w, cb.b, b)]);
    expectClose(t, ya, ca.y, { family: CONV, pass: 'forward', mode, what: `${dimsText(a)}; concurrent` });
    expectExact(t, py, pool.maxPool2dForwardRef(px, p).y, { family: POOL, pass: 'forward', mode, what: `${dimsText(p)}; concurrent` });
    expectClose(t, dxb, cb.dx, { family: CONV, pass: 'backward input', mode, what: `${dimsText(b)}; concurrent` });
    expectExact(t, ry, relu.reluForwardRef(r), { family: RELU, pass: 'forward', mode, what: `${r.length} elements; concurrent` });
    expectClose(t, yb, cb.y, { family: CONV, pass: 'forward', mode, what: `${dimsText(b)}; concurrent` });
  });

  for (const simd of ['relaxed', 'mul+add'] as const) {
    for (const threads of [1, 2]) {
      const config = `${simd}, ${threads} thread${threads > 1 ? 's' : ''}`;

      for (const [conv3x3, winogradTile] of [['auto', 'auto'], ['im2col', 'auto'], ['winograd', 2], ['winograd', 4]] as const) {
      const how3x3 = conv3x3 === 'winograd' ? `winograd F(${winogradTile}×${winogradTile})` : conv3x3;
      test(`[wasm ${config}, 3×3 ${how3x3}] conv2d forward and backward against the float64 reference`, async (t) => {
        const info = await fast.initFastPath({ simd, threads, conv3x3, winogradTile });
        t.deepEqual(info, { simd, threads, conv3x3, winogradTile, residentBytes: fast.RESIDENT_BYTES }, `runs ${config}, 3×3 convolutions by ${how3x3}`);
        for (const d of CONV_SHAPES) {
          if (conv3x3 !== 'auto' && d.K !== 3) continue;
          const c = convCase(d);
          const what = `${dimsText(d)}; ${config}, 3×3 ${how3x3}`;
          expectClose(t, await fast.conv2dForward(c.x, c.w, c.b, d), c.y, { family: CONV, pass: 'forward', mode, what });
          expectClose(t, await fast.conv2dBackwardInput(c.dy, c.w, d), c.dx, { family: CONV, pass: 'backward input', mode, what });
          expectClose(t, await fast.conv2dBackwardWeight(c.dy, c.x, d), c.dw, { family: CONV, pass: 'backward weight', mode, what });
          expectClose(t, await fast.conv2dBackwardBias(c.dy, d), c.db, { family: CONV, pass: 'backward bias', mode, what });
          if (threads === 2) {
            // a parameter's filters: copied in by the first call, made resident by the second, read from there by the third
            const w = settledCopy(c.w);
            for (const call of ['first', 'second', 'third']) {
              const how = `${what}; resident filters, ${call} call`;
              expectClose(t, await fast.conv2dForward(c.x, w, c.b, d), c.y, { family: CONV, pass: 'forward', mode, what: how });
              expectClose(t, await fast.conv2dBackwardInput(c.dy, w, d), c.dx, { family: CONV, pass: 'backward input', mode, what: how });
            }
          }
        }
      });
      }

      test(`[wasm ${config}] linear forward and backward against the float64 reference`, async (t) => {
        await fast.initFastPath({ simd, threads, conv3x3: 'auto' });
        for (const d of LINEAR_SHAPES) {
          const c = linearCase(d);
          const what = `${dimsText(d)}; ${config}`;
          expectClose(t, await fast.linearForward(c.x, c.w, c.b, d), c.y, { family: FC, pass: 'forward', mode, what });
          expectClose(t, await fast.linearBackwardInput(c.dy, c.w, d), c.dx, { family: FC, pass: 'backward input', mode, what });
          expectClose(t, await fast.linearBackwardWeight(c.dy, c.x, d), c.dw, { family: FC, pass: 'backward weight', mode, what });
          expectClose(t, await fast.linearBackwardBias(c.dy, d), c.db, { family: FC, pass: 'backward bias', mode, what });
          const w = settledCopy(c.w);
          for (const call of ['first', 'second', 'third']) {
            const how = `${what}; resident weight, ${call} call`;
            expectClose(t, await fast.linearForward(c.x, w, c.b, d), c.y, { family: FC, pass: 'forward', mode, what: how });
            expectClose(t, await fast.linearBackwardInput(c.dy, w, d), c.dx, { family: FC, pass: 'backward input', mode, what: how });
          }
        }
      });
    }
  }

  for (const simd of ['relaxed', 'mul+add'] as const) {
    test(`[wasm ${simd}] ReLU, max-pool, add / mul / scale / sum, SGD and dropout against the float64 references`, async (t) => {
      await fast.initFastPath({ simd, threads: 1 });
      for (const L of FLAT_LENGTHS) {
        const a = randomArray(L, 40), b = randomArray(L, 41, 3), v = randomArray(L, 42);
        a[0] = 0; // ReLU's gradient at exactly 0 is 0
        const what = `${L} elements; ${simd}`;
        expectExact(t, await fast.reluForward(a), relu.reluForwardRef(a), { family: RELU, pass: 'forward', mode, what });
        expectExact(t, await fast.reluBackward(b, a), relu.reluBackwardRef(b, a), { family: RELU, pass: 'backward input', mode, what });
        expectExact(t, await fast.add(a, b), ew.addRef(a, b), { family: EW, pass: 'forward', mode, what: `add, ${what}` });
        expectExact(t, await fast.mul(a, b), ew.mulRef(a, b), { family: EW, pass: 'forward', mode, what: `mul, ${what}` });
        expectExact(t, await fast.scale(a, 0.1), ew.scaleRef(a, 0.1), { family: EW, pass: 'forward', mode, what: `scale by 0.1, ${what}` });
        expectClose(t, await fast.sum(b), ew.sumRef(b), { family: EW, pass: 'forward', mode, what: `sum, ${what}` });
        const o = { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 };
        const got = await fast.sgdUpdate(a, b, v, o), ref = ew.sgdUpdateRef(a, b, v, o);
        expectClose(t, got.param, ref.param, { family: SGD, pass: 'update', mode, what: `parameter, ${what}` });
        expectClose(t, got.velocity, ref.velocity, { family: SGD, pass: 'update', mode, what: `velocity, ${what}` });
        expectClose(t, await fast.dropoutApply(a, drop.dropoutMask(L, 0.3, 5), 0.3), drop.dropoutRef(a, 0.3, 5), { family: DROPOUT, pass: 'forward', mode, what: `p=0.3, ${what}` });
      }
      for (const d of POOL_SHAPES) {
        const dy = randomArray(d.N * d.C * Math.floor(d.H / 2) * Math.floor(d.W / 2), 44);
        const random = randomArray(d.N * d.C * d.H * d.W, 43);
        for (const [x, kind] of [[random, ''], [random.map((e) => Math.round(e)), ', ties']] as const) {
          const what = `${dimsText(d)}${kind}; ${simd}`;
          expectExact(t, await fast.maxPool2dForward(x, d), pool.maxPool2dForwardRef(x, d).y, { family: POOL, pass: 'forward', mode, what });
          expectExact(t, await fast.maxPool2dBackward(dy, x, d), pool.maxPool2dBackwardRef(dy, x, d), { family: POOL, pass: 'backward input', mode, what });
        }
      }
    });
  }

  const LRN_CASES: [MapDims, Partial<norm.LrnOptions>, number?][] = [
    [{ N: 1, C: 64, H: 37, W: 41 }, {}, 4], // the paper's values; batch 1 on 2 threads: split by pixels, 1–3 pixels left over
    [{ N: 3, C: 24, H: 30, W: 30 }, { size: 4, alpha: 0.5, k: 1, alphaMode: 'mean' }, 3], // an even window; split by images
    [{ N: 2, C: 3, H: 1, W: 3 }, { size: 7, alpha: 0.3, beta: 0.6 }], // the window wider than the channels
    [{ N: 2, C: 9, H: 8, W: 8 }, { alpha: 0.5, beta: 1.3, k: 0.5 }, 10], // s up to ~250: log and exp far from 1
  ];
  for (const threads of [1, 2]) {
    test(`[wasm ${threads} thread(s)] softmax, cross-entropy and LRN against the float64 references`, async (t) => {
      await fast.initFastPath({ threads });
      for (const [d, scale] of [[{ N: 5, K: 1001 }, 20], [{ N: 64, K: 10 }, 5], [{ N: 3, K: 1 }, 1], [{ N: 2, K: 7 }, 1000]] as const) {
        const x = randomArray(d.N * d.K, 50, scale), dy = randomArray(d.N * d.K, 51);
        const what = `${dimsText(d)}, logits in ±${scale}; ${threads} thread(s)`;
        const y = sm.softmaxForwardRef(x, d);
        expectClose(t, await fast.softmaxForward(x, d), y, { family: 'softmax', pass: 'forward', mode, what });
        const yf = Float32Array.from(y);
        expectClose(t, await fast.softmaxBackward(dy, yf, d), sm.softmaxBackwardRef(dy, yf, d), { family: 'softmax', pass: 'backward input', mode, what });
        const labels = Float32Array.from({ length: d.N }, (_, n) => (n * 7 + 3) % d.K);
        const rows = Float64Array.from({ length: d.N }, (_, n) => sm.crossEntropyRef(x.subarray(n * d.K, (n + 1) * d.K), [labels[n]], { N: 1, K: d.K }));
        expectClose(t, await fast.crossEntropyRows(x, labels, d), rows, { family: 'softmax cross-entropy', pass: 'forward', mode, what: `per-row losses, ${what}` });
        expectClose(t, await fast.crossEntropyBackward(x, labels, Float32Array.of(0.7), d), sm.crossEntropyBackwardRef(x, labels, 0.7, d),
          { family: 'softmax cross-entropy', pass: 'backward input', mode, what: `g = 0.7, ${what}` });
      }
      for (const [d, partial, scale] of LRN_CASES) {
        const o = { size: 5, alpha: 1e-4, beta: 0.75, k: 2, alphaMode: 'sum', ...partial } as norm.LrnOptions;
        const x = randomArray(d.N * d.C * d.H * d.W, 52, scale ?? 1), dy = randomArray(x.length, 53);
        const what = `${dimsText(d)} size=${o.size} α=${o.alpha} β=${o.beta} k=${o.k} ${o.alphaMode}; ${threads} thread(s)`;
        expectClose(t, await fast.lrnForward(x, o, d), norm.lrnForwardRef(x, o, d).y, { family: 'LRN (sum and mean α)', pass: 'forward', mode, what });
        expectClose(t, await fast.lrnBackward(dy, x, o, d), norm.lrnBackwardRef(dy, x, o, d), { family: 'LRN (sum and mean α)', pass: 'backward input', mode, what });
      }
    });
  }

  test('[wasm] resident filters: an array given back to the pool and reused with new values is not read stale; the least recently used go at the limit; 0 turns them off', async (t) => {
    const d: Conv2dDims = { N: 2, Cin: 32, Cout: 32, H: 12, W: 12, K: 3 };
    const c = convCase(d);
    const wLength = c.w.length;
    const other = { w: randomArray(wLength, 77) }; // other filters of the same length
    t.ok(wLength * 4 >= 16384, 'the filters are big enough to be pooled');
    const refY = (w: Float32Array) => conv.conv2dForwardRef(c.x, w, c.b, d);
    for (const [algorithm, winogradTile] of [['winograd', 4], ['winograd', 2], ['im2col', 'auto']] as const) {
      const conv3x3 = algorithm === 'winograd' ? `winograd F(${winogradTile}×${winogradTile})` : algorithm;
      await fast.initFastPath({ threads: 2, conv3x3: algorithm, winogradTile });
      setPoolLimit(1 << 30);
      clearPool();
      const a = allocate(wLength);
      a.set(c.w);
      settle(a);
      for (const call of ['first', 'second']) { // the second use makes them resident
        expectClose(t, await fast.conv2dForward(c.x, a, c.b, d), c.y, { family: CONV, pass: 'forward', mode, what: `${conv3x3}: settled filters, ${call} call` });
        expectClose(t, await fast.conv2dBackwardInput(c.dy, a, d), c.dx, { family: CONV, pass: 'backward input', mode, what: `${conv3x3}: turned filters, ${call} call` });
      }
      release(a);
      const b = allocate(wLength);
      t.equal(b, a, `${conv3x3}: the pool hands the same array back`);
      b.set(other.w);
      settle(b);
      expectClose(t, await fast.conv2dForward(c.x, b, c.b, d), refY(other.w), { family: CONV, pass: 'forward', mode, what: `${conv3x3}: the reused array's new filters, not the resident old ones` });
      expectClose(t, await fast.conv2dBackwardInput(c.dy, b, d), conv.conv2dBackwardRef(c.dy, c.x, other.w, d).dx, { family: CONV, pass: 'backward input', mode, what: `${conv3x3}: the reused array's new turned filters` });
      clearPool();
    }
    // room for one set of filters only: two settled arrays take turns, each call evicts the other
    await fast.initFastPath({ threads: 2, conv3x3: 'im2col', residentBytes: wLength * 4 });
    const [p, q] = [settledCopy(c.w), settledCopy(other.w)];
    for (let i = 0; i < 2; i++) {
      expectClose(t, await fast.conv2dForward(c.x, p, c.b, d), c.y, { family: CONV, pass: 'forward', mode, what: `limit of one: first filters, round ${i + 1}` });
      expectClose(t, await fast.conv2dForward(c.x, q, c.b, d), refY(other.w), { family: CONV, pass: 'forward', mode, what: `limit of one: second filters, round ${i + 1}` });
    }
    const off = await fast.initFastPath({ threads: 2, residentBytes: 0 });
    t.equal(off.residentBytes, 0, 'residentBytes: 0 is accepted');
    expectClose(t, await fast.conv2dForward(c.x, p, c.b, d), c.y, { family: CONV, pass: 'forward', mode, what: 'nothing resident' });
    await rejectsNamed(t, () => fast.initFastPath({ residentBytes: -1 }), ValueError, [/initFastPath/, /residentBytes must be a finite number ≥ 0, got -1/], 'a bad residentBytes');
    await fast.initFastPath({});
  });

  test("[wasm] Winograd's 'auto' tile: F(4×4) where it saves more, F(2×2) past WINOGRAD4_MAX_CHANNELS; winogradTile's values", async (t) => {
    const same = async (d: Conv2dDims, tile: 2 | 4, why: string) => {
      const c = convCase(d);
      const run = async (winogradTile: 2 | 4 | 'auto') => {
        await fast.initFastPath({ threads: 2, winogradTile });
        return [await fast.conv2dForward(c.x, c.w, c.b, d), await fast.conv2dBackwardInput(c.dy, c.w, d)];
      };
      const [auto, picked] = [await run('auto'), await run(tile)];
      t.deepEqual([Array.from(auto[0]), Array.from(auto[1])], [Array.from(picked[0]), Array.from(picked[1])], `${dimsText(d)}: 'auto' gives F(${tile}×${tile})'s bits (${why})`);
      expectClose(t, auto[0], c.y, { family: CONV, pass: 'forward', mode, what: `${dimsText(d)}; auto tile` });
      expectClose(t, auto[1], c.dx, { family: CONV, pass: 'backward input', mode, what: `${dimsText(d)}; auto tile` });
    };
    await same({ N: 1, Cin: 64, Cout: 64, H: 16, W: 16, K: 3 }, 4, '16×16: 4× fewer multiply-adds against 2.25×');
    const over = fast.WINOGRAD4_MAX_CHANNELS + 8;
    await same({ N: 1, Cin: over, Cout: over, H: 12, W: 12, K: 3 }, 2, `both passes sum ${over} channels, more than WINOGRAD4_MAX_CHANNELS; F(4×4) would save 3× against 1.7×`);
    await rejectsNamed(t, () => fast.initFastPath({ winogradTile: 3 as never }), ValueError, [/^initFastPath: winogradTile must be 'auto', 2 or 4, got 3/], 'a bad winogradTile');
    process.env.VERYDEEP_WINOGRAD_TILE = '4';
    t.equal((await fast.initFastPath({})).winogradTile, 4, 'VERYDEEP_WINOGRAD_TILE sets the default');
    t.equal((await fast.initFastPath({ winogradTile: 2 })).winogradTile, 2, 'the option overrides VERYDEEP_WINOGRAD_TILE');
    process.env.VERYDEEP_WINOGRAD_TILE = 'x';
    await rejectsNamed(t, () => fast.initFastPath({}), ValueError, [/^initFastPath: VERYDEEP_WINOGRAD_TILE must be 2, 4 or auto, got 'x'/], 'a bad VERYDEEP_WINOGRAD_TILE');
    delete process.env.VERYDEEP_WINOGRAD_TILE;
    t.equal((await fast.initFastPath({})).winogradTile, 'auto', "'auto' by default");
  });
}
