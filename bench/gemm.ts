/**
 * Speed of the WebAssembly fast path (kernels/wasm/fastpath.ts) on VGG's convolutions:
 * forward, input gradient and weight gradient of a 3×3 convolution, batch 1, per SIMD build
 * and thread count. Napkin math: a conv does 2·Cout·Cin·9·H·W FLOP per pass (a multiply and
 * an add per tap); the ceiling is ../shared/WASM.md's 4×8 micro-kernel alone (42 GFLOP/s
 * per core with mul + add, 54 with relaxed_madd).
 *
 *   node dist/bench/gemm.js [--runs 7]
 */
import { conv2dBackwardInput, conv2dBackwardWeight, conv2dForward, initFastPath, type SimdBuild } from '../kernels/wasm/fastpath.js';
import type { Conv2dDims } from '../kernels/dims.js';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 7;
const MICRO_KERNEL_GFLOPS: Record<SimdBuild, number> = { relaxed: 54, 'mul+add': 42 };

const SHAPES: Conv2dDims[] = [
  { N: 1, Cin: 64, Cout: 64, H: 56, W: 56, K: 3 },
  { N: 1, Cin: 256, Cout: 256, H: 28, W: 28, K: 3 },
];

function random(n: number): Float32Array {
  return Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
}

/**
 * the fastest of RUNS runs in ms, after two warm-up runs: the best estimate of the
 * uncontended time on a machine that other processes share
 */
async function time(f: () => Promise<unknown>): Promise<number> {
  await f();
  await f();
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await f();
    ms.push(performance.now() - t0);
  }
  return Math.min(...ms);
}

for (const simd of ['relaxed', 'mul+add'] as const) {
  for (const threads of [1, 2]) {
    const info = await initFastPath({ simd, threads });
    const ceiling = MICRO_KERNEL_GFLOPS[info.simd] * info.threads;
    console.log(`\n${info.simd}, ${info.threads} thread(s); micro-kernel ceiling ${ceiling} GFLOP/s`);
    for (const d of SHAPES) {
      const x = random(d.N * d.Cin * d.H * d.W), w = random(d.Cout * d.Cin * 9), b = random(d.Cout), dy = random(d.N * d.Cout * d.H * d.W);
      const gflop = (2 * d.N * d.Cout * d.Cin * 9 * d.H * d.W) / 1e9;
      const passes: [string, () => Promise<unknown>][] = [
        ['forward', () => conv2dForward(x, w, b, d)],
        ['backward input', () => conv2dBackwardInput(dy, w, d)],
        ['backward weight', () => conv2dBackwardWeight(dy, x, d)],
      ];
      for (const [pass, f] of passes) {
        const ms = await time(f);
        const rate = gflop / (ms / 1e3);
        console.log(`  ${d.Cin}→${d.Cout} @${d.H}×${d.W} ${pass.padEnd(16)} ${ms.toFixed(2).padStart(7)} ms  ${rate.toFixed(1).padStart(5)} GFLOP/s  (${((100 * rate) / ceiling).toFixed(0)}% of ceiling)`);
      }
    }
  }
}
