/**
 * The sizes every kernel takes beside its flat arrays, in one place: the gpu.js launchers,
 * the fast path and the float64 references all use these.
 */

/** x [N, Cin, H, W], w [Cout, Cin, K, K], y [N, Cout, H, W] (stride 1, same-size padding) */
export interface Conv2dDims {
  /** batch size */
  N: number;
  /** input channels */
  Cin: number;
  /** output channels (filters) */
  Cout: number;
  /** height, in pixels */
  H: number;
  /** width, in pixels */
  W: number;
  /** kernel size: 3 or 1 (any odd size works) */
  K: number;
}

/** x [N, In], w [Out, In], y [N, Out] */
export interface LinearDims {
  /** batch size */
  N: number;
  /** input features per row */
  In: number;
  /** output features per row */
  Out: number;
}

/** rows of logits [N, K] */
export interface SoftmaxDims {
  /** batch size */
  N: number;
  /** classes per row */
  K: number;
}

/** a batch of feature maps [N, C, H, W] (max-pooling's input, LRN's input and output) */
export interface MapDims {
  /** batch size */
  N: number;
  /** channels */
  C: number;
  /** height, in pixels */
  H: number;
  /** width, in pixels */
  W: number;
}
