/**
 * The test protocols of §3.2 and §4: `import { evaluate } from 'verydeep'`.
 *
 *   evaluate.dense(model, image, { scales, flip })          posteriors: the FC layers as convolutions
 *                                                          over the whole image (dense.ts)
 *   evaluate.multiCrop(model, image, { scales, flip, grid }) posteriors: a grid of crops × flips (multicrop.ts)
 *   evaluate.scalesFor({ S } | { Smin, Smax })              Q ∈ {S−32, S, S+32} or {Smin, (Smin+Smax)/2, Smax}
 *   evaluate.fuse([p1, p2, ...])                            the mean posterior (flips, scales, protocols, nets)
 *   evaluate.topK(posteriors, k)                            the k best classes, best first
 *   evaluate.errors(models, samples, { protocol, scales })  top-1 / top-5 error: dense, multi-crop,
 *                                                          combined (Table 5), of one net or fused nets (errors.ts)
 *
 * An image is an ndarray [C, H, W] or a Tensor [1, C, H, W], preprocessed as the model's
 * training was (mean subtraction, range); it is rescaled here so its smallest side is Q
 * (bilinear). Or a ScalableImage { channels, atSmallestSide(Q) } that rescales itself: in
 * Node, data's scalableImage(path) downscales with sharp, antialiased as torchvision does.
 */
export { dense, denseScoreMap, validConv2d, cropBorder, fc6Window } from './dense.js';
export type { DenseOptions } from './dense.js';
export { multiCrop, cropGrid, cropViews } from './multicrop.js';
export type { MultiCropOptions, CropView } from './multicrop.js';
export { errors } from './errors.js';
export type { Protocol, ErrorOptions, ErrorReport, TopErrors } from './errors.js';
export { fuse, topK, scalesFor } from './posteriors.js';
export type { EvalImage, EvalSample, ScalableImage } from './posteriors.js';
