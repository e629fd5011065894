/**
 * The fast path's WebAssembly module as TypeScript sees it (the exports of gemm.as,
 * pointwise.as, winograd.as, winograd4.as and softmax-lrn.as), the options and the information of the public API
 * (fastpath.ts re-exports them), and the tuning constants of the launchers.
 */

/** The exports of the .as files (addresses in bytes, sizes and strides in floats; see their headers). */
export interface GemmModule {
  gemm(M: number, N: number, K: number, a: number, rsA: number, csA: number, b: number, rsB: number, csB: number,
    c: number, ldc: number, accumulate: number, scratch: number): void;
  /** gemv.as: y[o] += x·w[o] for one row of x, streaming w (see its header) */
  gemvStream(M: number, K: number, x: number, w: number, y: number): void;
  /** gemv.as: y[n·ldy + o] += x[n]·w[o] for N rows of x (2 to 4 pay: more read w once per 4 rows) */
  gemvBatch(N: number, M: number, K: number, x: number, w: number, y: number, ldy: number): void;
  im2col(x: number, C: number, H: number, W: number, k: number, y0: number, rows: number, col: number, ldcol: number, scratch: number): void;
  batchPlanes(src: number, g: number, C: number, P: number, c0: number, count: number, dst: number): void;
  unbatchPlanes(src: number, g: number, C: number, P: number, c0: number, count: number, dst: number, bias: number, hasBias: number): void;
  flipFilters(w: number, Cout: number, Cin: number, k: number, c0: number, count: number, out: number): void;
  col2imAdd(col: number, C: number, H: number, W: number, k: number, y0: number, rows: number, dx: number): void;
  gemmScratchBytes(): number;
  heapBase(): number;
  reluForward(x: number, y: number, n: number): void;
  reluBackward(dy: number, x: number, dx: number, n: number): void;
  maxPool2dForward(x: number, planes: number, H: number, W: number, y: number): void;
  maxPool2dBackward(dy: number, x: number, planes: number, H: number, W: number, dx: number): void;
  add(a: number, b: number, out: number, n: number): void;
  mul(a: number, b: number, out: number, n: number): void;
  scale(a: number, s: number, out: number, n: number): void;
  sum(a: number, n: number): number;
  sgdUpdate(p: number, g: number, v: number, param: number, velocity: number, n: number, lr: number, momentum: number, weightDecay: number): void;
  dropoutApply(a: number, keep: number, scale: number, out: number, n: number): void;
  softmaxForward(x: number, y: number, rows: number, K: number): void;
  softmaxBackward(dy: number, y: number, dx: number, rows: number, K: number): void;
  crossEntropyRows(x: number, labels: number, out: number, rows: number, K: number): void;
  crossEntropyBackward(x: number, labels: number, s: number, out: number, rows: number, K: number): void;
  lrnForward(x: number, y: number, images: number, C: number, HW: number, p0: number, p1: number, lo: number, hi: number, k: number, a: number, beta: number): void;
  lrnBackward(dy: number, x: number, dx: number, images: number, C: number, HW: number, p0: number, p1: number, lo: number, hi: number,
    k: number, a: number, beta: number, work: number): void;
  winogradPad(x: number, c0: number, count: number, H: number, W: number, xp: number, Hp: number, Wp: number, at: number): void;
  winogradGradInput(yp: number, co0: number, count: number, Hp: number, Wp: number, i0: number, rows: number, twp: number,
    y: number, ldy: number, xiStride: number): void;
  winogradInput(xp: number, c0: number, count: number, Hp: number, Wp: number, i0: number, rows: number, twp: number, v: number, ldv: number, xiStride: number): void;
  winogradOutput(m: number, co0: number, count: number, ldm: number, xiStride: number, i0: number, rows: number, twp: number,
    y: number, H: number, W: number, bias: number, hasBias: number, tmp: number): void;
  winogradInputQuad(x: number, inPer: number, images: number, c0: number, count: number, H: number, W: number, th: number, tw: number,
    v: number, ldv: number, xiStride: number, plane: number): void;
  winogradOutputQuad(m: number, co0: number, count: number, ldm: number, xiStride: number, th: number, tw: number,
    y: number, outPer: number, images: number, H: number, W: number, bias: number, hasBias: number, tmp: number): void;
  winogradWeights(w: number, Cout: number, Cin: number, co0: number, count: number, u: number, flip: number): void;
  winogradGradQuad(dy: number, outPer: number, images: number, co0: number, count: number, H: number, W: number, th: number, tw: number,
    y: number, ldy: number, xiStride: number, plane: number): void;
  winogradGradWeights(m: number, Cout: number, Cin: number, co0: number, count: number, dw: number): void;
  winograd4Input(xp: number, c0: number, count: number, Hp: number, Wp: number, i0: number, rows: number, twp: number,
    v: number, ldv: number, xiStride: number, tmp: number): void;
  winograd4Output(m: number, co0: number, count: number, ldm: number, xiStride: number, i0: number, rows: number, twp: number,
    y: number, H: number, W: number, bias: number, hasBias: number, tmp: number): void;
  winograd4Weights(w: number, Cout: number, Cin: number, co0: number, count: number, u: number, flip: number, tmp: number): void;
}

export type SimdBuild = 'relaxed' | 'mul+add';

export interface FastPathOptions {
  /**
   * threads that run the kernels, the calling one included; default all the cores the process may
   * use (os.availableParallelism(); a browser's navigator.hardwareConcurrency), or 1 in a page that is
   * not cross-origin isolated (more is a BackendError there)
   */
  threads?: number;
  /** 'auto' (default): relaxed SIMD (FMA) where the engine accepts it, else mul + add */
  simd?: SimdBuild | 'auto';
  /**
   * How 3×3 convolutions compute their forward pass and their gradient to the input:
   * 'auto' (default) Winograd F(2×2, 3×3) where both channel counts are at least
   * WINOGRAD_MIN_CHANNELS, else im2col + GEMM; or always one of the two.
   */
  conv3x3?: Conv3x3Algorithm | 'auto';
  /**
   * The tile of those Winograd convolutions: 'auto' (default) F(4×4, 3×3) where it saves more
   * than F(2×2, 3×3) and the reduction has at most WINOGRAD4_MAX_CHANNELS channels (see
   * winograd.ts), else F(2×2); or always 2 (F(2×2)) or 4 (F(4×4)). The default can be set by
   * the environment variable VERYDEEP_WINOGRAD_TILE (2, 4 or auto), so that a benchmark can
   * time both. The weight gradient keeps F(3×3, 2×2) either way.
   */
  winogradTile?: WinogradTile | 'auto';
  /**
   * The most bytes of parameters' filters kept in the module's memory between calls
   * (default RESIDENT_BYTES, 768 MiB); 0 copies them in on every call.
   */
  residentBytes?: number;
}

export type Conv3x3Algorithm = 'im2col' | 'winograd';
export type WinogradTile = 2 | 4;

export interface FastPathInfo {
  /** which build runs: f32x4.relaxed_madd, or f32x4 mul + add */
  simd: SimdBuild;
  /** threads that run the kernels, the calling one included */
  threads: number;
  /** why only one thread can run here (a browser page that is not cross-origin isolated); absent where threads can run */
  threadsNote?: string;
  conv3x3: Conv3x3Algorithm | 'auto';
  winogradTile: WinogradTile | 'auto';
  residentBytes: number;
}

/** The memory's limit in 64 KiB pages (2 GiB): at most the maximum that scripts/build-wasm.mjs builds in. */
export const MAXIMUM_PAGES = 32768;
/** The most floats of one thread's col buffer: a band of output rows fills it (4 MiB, in L3). */
export const BAND_FLOATS = 1 << 20;
/** The most floats of a linear layer's weight held in the memory at once (16 MiB). */
export const WEIGHT_BLOCK_FLOATS = 1 << 22;
/** Winograd's transforms cost about as much as its GEMMs save below this many channels in or out (the first layer has 3) */
export const WINOGRAD_MIN_CHANNELS = 16;
/**
 * The most input channels summed (the reduction: Cin forward, Cout for the gradient to the
 * input) for which 'auto' takes Winograd F(4×4, 3×3): its float32 error grows with the
 * reduction, and past this it nears the tests' 1e-5 bound (winograd.ts states the figures).
 */
export const WINOGRAD4_MAX_CHANNELS = 512;
/** The most floats of one band's transformed input and GEMM results (V and M, 8 MiB) */
export const WINOGRAD_BAND_FLOATS = 1 << 21;
/** the same for the quad layout of small images (twice as many: their 16 GEMMs have few columns, 256 for 64 images of 4×4 at 512 channels) */
export const WINOGRAD_QUAD_BAND_FLOATS = 1 << 22;
/**
 * the fewest tiles in a batch for which the filters' transform pays off under 'auto'
 * (measured: 512→512 at 14×14 b1, 49 tiles, 12.1 against im2col's 16.3 ms; 2×2 b16, 16
 * tiles, 7.5 against 6.6 ms)
 */
export const WINOGRAD_MIN_TILES = 32;
/** Images of at most this many pixels run several to a GEMM, their pixels side by side, so that its columns are not too few */
export const BATCH_PIXELS = 512;
/**
 * ... or whatever their size when col has at most this many rows (the first layer: 3·3·3 = 27):
 * a GEMM with so short a K does little per call, and one image per call leaves the threads waiting.
 */
export const FEW_ROWS = 64;
/** Below this many multiply-adds a job runs on one thread (2 threads break even near 2 M here, ~0.2 ms). */
export const MIN_PARALLEL_MACS = 1 << 21;

export const PAGE = 65536;
export const align64 = (bytes: number) => Math.ceil(bytes / 64) * 64;
