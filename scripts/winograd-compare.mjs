#!/usr/bin/env node
// Compares Winograd F(2×2, 3×3) and F(4×4, 3×3) on the wasm fast path at VGG's 3×3 shapes
// (run after `npm run build`; it loads dist/):
//   node scripts/winograd-compare.mjs --errors     normalized error against the float64
//        reference (max |got - ref| / max(1, max |ref|), as the tests), forward and gradient
//        to the input, batch 1, inputs and filters uniform in [-1, 1] as in the tests;
//   node scripts/winograd-compare.mjs --time [--rounds=7] [--shapes=64x128@16] [--batches=64]   forward and
//        input-gradient times (b1 and b8 unless --batches), the two tiles alternating call by call;
//        medians, spreads, and the ratios of medians and of minimums (on a busy machine, noise only adds).
import { conv2dBackwardInput, conv2dForward, initFastPath } from '../dist/kernels/wasm/fastpath.js';
import { conv2dBackwardRef, conv2dForwardRef } from '../dist/kernels/conv2d.js';
import { randomArray } from '../dist/test/helpers.js';
import { settle } from '../dist/kernels/pool.js';

const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
// --shapes=64x128@16,512@14 (Cin x Cout @ size) replaces VGG's; --batches=1,8 (the default)
const SHAPES = arg('shapes') ? arg('shapes').split(',').map((s) => { const [c, S] = s.split('@'); const [ci, co = ci] = c.split('x').map(Number); return [ci, Number(S), co]; })
  : [[64, 224], [128, 112], [256, 56], [512, 28], [512, 14]];
const BATCHES = arg('batches', '1,8').split(',').map(Number);
const error = (got, ref) => {
  let m = 0, r = 1;
  for (let i = 0; i < ref.length; i++) { m = Math.max(m, Math.abs(got[i] - ref[i])); r = Math.max(r, Math.abs(ref[i])); }
  return m / r;
};
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];

if (process.argv.includes('--errors')) {
  for (const [C, S, Co = C] of SHAPES) {
    const d = { N: 1, Cin: C, Cout: Co, H: S, W: S, K: 3 };
    const x = randomArray(C * S * S, 1), w = randomArray(Co * C * 9, 2), b = randomArray(Co, 3), dy = randomArray(Co * S * S, 4);
    const y = conv2dForwardRef(x, w, b, d), { dx } = conv2dBackwardRef(dy, x, w, d);
    const parts = [];
    for (const tile of [2, 4]) {
      await initFastPath({ threads: 2, conv3x3: 'winograd', winogradTile: tile });
      parts.push(`F(${tile}×${tile}) forward ${error(await conv2dForward(x, w, b, d), y).toExponential(2)}, grad input ${error(await conv2dBackwardInput(dy, w, d), dx).toExponential(2)}`);
    }
    console.log(`${C}x${Co}@${S}: ${parts.join('; ')}`);
  }
}

if (process.argv.includes('--time')) {
  const rounds = Number(arg('rounds', 7));
  for (const [C, S, Co = C] of SHAPES) {
    for (const N of BATCHES) {
      const d = { N, Cin: C, Cout: Co, H: S, W: S, K: 3 };
      const x = randomArray(N * C * S * S, 1), dy = randomArray(N * Co * S * S, 2);
      const w = randomArray(Co * C * 9, 3, 1 / Math.sqrt(C * 9)), b = randomArray(Co, 4, 0.1);
      settle(w); // a parameter's filters: resident, as in bench/run.ts
      const times = { 2: { fwd: [], dx: [] }, 4: { fwd: [], dx: [] } };
      for (let r = -1; r < rounds; r++) { // round -1 warms up (and makes the filters resident)
        for (const tile of r % 2 ? [2, 4] : [4, 2]) {
          await initFastPath({ threads: 2, conv3x3: 'winograd', winogradTile: tile });
          for (const [pass, run] of [['fwd', () => conv2dForward(x, w, b, d)], ['dx', () => conv2dBackwardInput(dy, w, d)]]) {
            const t0 = performance.now();
            await run();
            if (r >= 0) times[tile][pass].push(performance.now() - t0);
          }
        }
      }
      for (const pass of ['fwd', 'dx']) {
        const [a, f] = [median(times[2][pass]), median(times[4][pass])];
        const spread = (t) => `${Math.min(...t).toFixed(1)}–${Math.max(...t).toFixed(1)}`;
        const ratioOfMins = Math.min(...times[2][pass]) / Math.min(...times[4][pass]);
        console.log(`${C}x${Co}@${S} b${N} ${pass}: F(2×2) ${a.toFixed(1)} ms [${spread(times[2][pass])}], F(4×4) ${f.toFixed(1)} ms [${spread(times[4][pass])}], ` +
          `F(2×2)/F(4×4) ${(a / f).toFixed(2)}× by medians, ${ratioOfMins.toFixed(2)}× by minimums`);
      }
    }
  }
}
process.exit(0);
