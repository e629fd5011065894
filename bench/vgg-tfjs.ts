/**
 * The same VGG in tfjs-core ops (NHWC), with verydeep's weights: each Conv2d + ReLU becomes
 * one fused conv2d (bias, relu), each Linear (+ ReLU) one fused matMul, max-pool and LRN their
 * tfjs ops, dropout tf.dropout in training and nothing in eval mode. The first FC layer's
 * input is permuted from the NCHW flatten order to the NHWC one, so both nets compute the
 * same function and their outputs can be compared. With `trainable`, the weights are
 * tf.variables (the browser benchmark page's training step, examples/web/bench-rows.ts);
 * it needs no Node module (the Node bench and the page both use it).
 */
import { Vgg } from '../lib/models/vgg.js';
import { Conv2d, Dropout, Linear, LocalResponseNorm, MaxPool2d, ReLU } from '../lib/nn/layers.js';
import type { Module } from '../lib/nn/module.js';
import { oihwToHwio, transpose2d, type Tf } from './layouts.js';
import type * as TF from '@tensorflow/tfjs-core';

export interface TfjsNet {
  /** x NHWC [N, H, W, C] → the logits [N, classes]; `training` turns dropout on */
  forward(x: TF.Tensor4D, training?: boolean): TF.Tensor2D;
  dispose(): void;
  params: number;
  /** the weights in parameter order (tf.variables when made with `trainable`) */
  weights: TF.Tensor[];
}

type Step = (x: TF.Tensor, training: boolean) => TF.Tensor;

export async function vggToTfjs(tf: Tf, model: Vgg, { trainable = false }: { trainable?: boolean } = {}): Promise<TfjsNet> {
  const owned: TF.Tensor[] = [];
  const keep = <T extends TF.Tensor>(t: T): T => {
    const kept = (trainable ? tf.variable(t) : t) as unknown as T;
    if (kept !== t) t.dispose();
    owned.push(kept);
    return kept;
  };
  const steps: Step[] = [];
  let [, C, H, W] = model.defaultInputShape();
  const layers = model.features.layers;
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i];
    if (l instanceof Conv2d) {
      const k = l.kernelSize;
      const filter = keep(tf.tensor4d(oihwToHwio(await l.weight.data(), l.outChannels, l.inChannels, k), [k, k, l.inChannels, l.outChannels]));
      const bias = keep(tf.tensor1d(await l.bias.data()));
      const relu = layers[i + 1] instanceof ReLU;
      if (relu) i++;
      steps.push((x) => tf.fused.conv2d({ x: x as TF.Tensor4D, filter, strides: 1, pad: 'same', bias, activation: relu ? 'relu' : 'linear' }));
      C = l.outChannels;
    } else if (l instanceof ReLU) {
      steps.push((x) => tf.relu(x));
    } else if (l instanceof MaxPool2d) {
      steps.push((x) => tf.maxPool(x as TF.Tensor4D, 2, 2, 'valid'));
      H = Math.floor(H / 2);
      W = Math.floor(W / 2);
    } else if (l instanceof LocalResponseNorm) {
      const o = l.options;
      if (o.size % 2 !== 1) throw new Error('vggToTfjs: tfjs LRN windows are symmetric; an even size has no tfjs equivalent');
      const alpha = o.alphaMode === 'mean' ? o.alpha / o.size : o.alpha;
      steps.push((x) => tf.localResponseNormalization(x as TF.Tensor4D, (o.size - 1) / 2, o.k, alpha, o.beta));
    } else {
      throw new Error(`vggToTfjs: no tfjs equivalent for ${l.describe()}`);
    }
  }
  const flat = C * H * W;
  steps.push((x) => tf.reshape(x, [x.shape[0], flat]));
  const fc: Module[] = model.classifier.layers;
  let first = true;
  for (let i = 0; i < fc.length; i++) {
    const l = fc[i];
    if (l instanceof Linear) {
      let w = await l.weight.data(); // [Out, In]
      if (first) {
        // In = C·H·W in NCHW order; tfjs flattens NHWC: put column c·HW + p at p·C + c
        const HW = H * W, permuted = new Float32Array(w.length);
        for (let o = 0; o < l.outFeatures; o++) {
          const row = o * flat;
          for (let c = 0; c < C; c++) for (let p = 0; p < HW; p++) permuted[row + p * C + c] = w[row + c * HW + p];
        }
        w = permuted;
      }
      first = false;
      const b = keep(tf.tensor2d(transpose2d(w, l.outFeatures, l.inFeatures), [l.inFeatures, l.outFeatures]));
      const bias = keep(tf.tensor1d(await l.bias.data()));
      const relu = fc[i + 1] instanceof ReLU;
      if (relu) i++;
      steps.push((x) => tf.fused.matMul({ a: x as TF.Tensor2D, b, bias, activation: relu ? 'relu' : 'linear' }));
    } else if (l instanceof ReLU) {
      steps.push((x) => tf.relu(x));
    } else if (l instanceof Dropout) {
      if (l.p > 0) steps.push((x, training) => (training ? tf.dropout(x, l.p) : x));
    } else {
      throw new Error(`vggToTfjs: no tfjs equivalent for ${l.describe()}`);
    }
  }
  return {
    forward: (x, training = false) => tf.tidy(() => steps.reduce<TF.Tensor>((h, step) => step(h, training), x)) as TF.Tensor2D,
    dispose: () => tf.dispose(owned),
    params: owned.reduce((n, t) => n + t.size, 0),
    weights: owned,
  };
}
