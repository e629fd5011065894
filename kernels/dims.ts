/**
 * The sizes every kernel takes beside its flat arrays, in one place: the gpu.js launchers,
 * the fast path and the float64 references all use these.
 */

/** x [N, Cin, H, W], w [Cout, Cin, K, K], y [N, Cout, H, W] (stride 1, same-size padding) */
export interface Conv2dDims {
  N: number;
  Cin: number;
  Cout: number;
  H: number;
  W: number;
  /** kernel size: 3 or 1 (any odd size works) */
  K: number;
}

/** x [N, In], w [Out, In], y [N, Out] */
export interface LinearDims {
  N: number;
  In: number;
  Out: number;
}

/** rows of logits [N, K] */
export interface SoftmaxDims {
  N: number;
  K: number;
}

/** a batch of feature maps [N, C, H, W] (max-pooling's input, LRN's input and output) */
export interface MapDims {
  N: number;
  C: number;
  H: number;
  W: number;
}
