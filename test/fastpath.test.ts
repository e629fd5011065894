/**
 * The WebAssembly fast path (kernels/wasm/fastpath.ts) against the float64 references of
 * kernels/conv2d.ts and kernels/linear.ts, every launcher, on both SIMD builds (relaxed
 * FMA and mul + add) and on 1 and 2 threads; tolerance KERNEL_TOL (test/helpers.ts).
 * Shapes cover odd sizes, batch > 1, a single channel, 1×1 and 3×3, M/N/K that are not
 * multiples of the 4×8 tile or the cache blocks, fewer channels than threads, jobs big
 * enough to run on 2 threads (above fastpath's 2^21 multiply-adds), several im2col bands
 * (the VGG shape) and several weight blocks (In·Out above 2^22).
 */
import test from 'tape';
import type { Mode } from '../lib/backend.js';
import * as conv from '../kernels/conv2d.js';
import * as fc from '../kernels/linear.js';
import * as fast from '../kernels/wasm/fastpath.js';
import { expectClose, randomArray } from './helpers.js';

/** the fast path is not a gpu.js mode; its checks are recorded under 'wasm' */
const mode = 'wasm' as unknown as Mode;
const CONV = 'conv2d 3×3 and 1×1';
const FC = 'fully connected';

const CONV_SHAPES: conv.Conv2dDims[] = [
  { N: 2, Cin: 3, Cout: 4, H: 5, W: 7, K: 3 }, // odd sizes, batch > 1
  { N: 1, Cin: 1, Cout: 1, H: 1, W: 1, K: 3 }, // single channel, every tap in the padding
  { N: 3, Cin: 2, Cout: 5, H: 4, W: 3, K: 1 }, // 1×1
  { N: 2, Cin: 33, Cout: 37, H: 19, W: 23, K: 3 }, // odd M, N, K above the tile, on 2 threads
  { N: 1, Cin: 1, Cout: 64, H: 97, W: 101, K: 3 }, // one input channel for 2 threads
  { N: 3, Cin: 130, Cout: 67, H: 17, W: 19, K: 1 }, // 1×1 on 2 threads, K = 130 not a multiple of 4
  { N: 1, Cin: 64, Cout: 64, H: 56, W: 56, K: 3 }, // VGG conv2_x at 112 px input: two im2col bands
];

const LINEAR_SHAPES: fc.LinearDims[] = [
  { N: 3, In: 7, Out: 5 },
  { N: 1, In: 1, Out: 1 },
  { N: 5, In: 333, Out: 101 },
  { N: 64, In: 1000, Out: 517 }, // on 2 threads
  { N: 3, In: 70001, Out: 67 }, // 4.7 M weights: two weight blocks
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

const convCase = memo((d: conv.Conv2dDims) => {
  const x = randomArray(d.N * d.Cin * d.H * d.W, 1);
  const w = randomArray(d.Cout * d.Cin * d.K * d.K, 2);
  const b = randomArray(d.Cout, 3);
  const dy = randomArray(d.N * d.Cout * d.H * d.W, 4);
  return { x, w, b, dy, y: conv.conv2dForwardRef(x, w, b, d), ...conv.conv2dBackwardRef(dy, x, w, d) };
});

const linearCase = memo((d: fc.LinearDims) => {
  const x = randomArray(d.N * d.In, 17), w = randomArray(d.Out * d.In, 18), b = randomArray(d.Out, 19);
  const dy = randomArray(d.N * d.Out, 20);
  return { x, w, b, dy, y: fc.linearForwardRef(x, w, b, d), ...fc.linearBackwardRef(dy, x, w, d) };
});

export function registerFastPathTests(): void {
  test('[wasm] the fast path loads, with relaxed SIMD where V8 takes it', async (t) => {
    const info = await fast.initFastPath({ threads: 1 });
    t.ok(info.simd === 'relaxed' || info.simd === 'mul+add', `runs the ${info.simd} build`);
    t.equal(info.threads, 1, 'on the 1 thread asked for');
    t.deepEqual(fast.getFastPathInfo(), info, 'getFastPathInfo reports the same');
    t.equal((await fast.initFastPath({ simd: 'mul+add', threads: 2 })).simd, 'mul+add', 'the mul + add build can be forced');
  });

  test('[wasm] launchers started together run one after another (they share the memory)', async (t) => {
    await fast.initFastPath({ threads: 2 });
    const [a, b] = [CONV_SHAPES[3], CONV_SHAPES[5]];
    const [ca, cb] = [convCase(a), convCase(b)];
    const [ya, dxb, yb] = await Promise.all([fast.conv2dForward(ca.x, ca.w, ca.b, a), fast.conv2dBackwardInput(cb.dy, cb.w, b), fast.conv2dForward(cb.x, cb.w, cb.b, b)]);
    expectClose(t, ya, ca.y, { family: CONV, pass: 'forward', mode, what: `${dimsText(a)}; concurrent` });
    expectClose(t, dxb, cb.dx, { family: CONV, pass: 'backward input', mode, what: `${dimsText(b)}; concurrent` });
    expectClose(t, yb, cb.y, { family: CONV, pass: 'forward', mode, what: `${dimsText(b)}; concurrent` });
  });

  for (const simd of ['relaxed', 'mul+add'] as const) {
    for (const threads of [1, 2]) {
      const config = `${simd}, ${threads} thread${threads > 1 ? 's' : ''}`;

      test(`[wasm ${config}] conv2d forward and backward against the float64 reference`, async (t) => {
        const info = await fast.initFastPath({ simd, threads });
        t.deepEqual(info, { simd, threads }, `runs ${config}`);
        for (const d of CONV_SHAPES) {
          const c = convCase(d);
          const what = `${dimsText(d)}; ${config}`;
          expectClose(t, await fast.conv2dForward(c.x, c.w, c.b, d), c.y, { family: CONV, pass: 'forward', mode, what });
          expectClose(t, await fast.conv2dBackwardInput(c.dy, c.w, d), c.dx, { family: CONV, pass: 'backward input', mode, what });
          expectClose(t, await fast.conv2dBackwardWeight(c.dy, c.x, d), c.dw, { family: CONV, pass: 'backward weight', mode, what });
          expectClose(t, await fast.conv2dBackwardBias(c.dy, d), c.db, { family: CONV, pass: 'backward bias', mode, what });
        }
      });

      test(`[wasm ${config}] linear forward and backward against the float64 reference`, async (t) => {
        await fast.initFastPath({ simd, threads });
        for (const d of LINEAR_SHAPES) {
          const c = linearCase(d);
          const what = `${dimsText(d)}; ${config}`;
          expectClose(t, await fast.linearForward(c.x, c.w, c.b, d), c.y, { family: FC, pass: 'forward', mode, what });
          expectClose(t, await fast.linearBackwardInput(c.dy, c.w, d), c.dx, { family: FC, pass: 'backward input', mode, what });
          expectClose(t, await fast.linearBackwardWeight(c.dy, c.x, d), c.dw, { family: FC, pass: 'backward weight', mode, what });
          expectClose(t, await fast.linearBackwardBias(c.dy, d), c.db, { family: FC, pass: 'backward bias', mode, what });
        }
      });
    }
  }
}
