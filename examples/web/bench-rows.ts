/**
 * The workloads of the benchmark page (examples/web/bench.ts), each a ladder of shapes (rung 0
 * the VGG shape; bench-timing.ts picks the rung) built on both sides with the same values
 * (bench/values.ts's formula, as the Node bench's rows):
 *
 *  - a 3×3 convolution at VGG's shapes (Cin = Cout, stride 1, 'same' padding, batch 1):
 *    forward (with bias), input gradient and weight gradient. Ours is the registry's kernel
 *    on host arrays, as bench/cases-conv.ts times it; tfjs's inputs sit on its backend
 *    (uploaded once, outside the timing) in NHWC. Both read their result back to a host
 *    Float32Array inside the timed region.
 *  - VGG-A forward at 224, batch 1, eval mode, the same weights (bench/vgg-tfjs.ts);
 *  - the CIFAR VGG-11 training step (config A's convs on 32×32, FC 512, dropout 0.5, softmax
 *    cross-entropy, SGD lr 0.01 momentum 0.9 weight decay 5e-4), as bench/cases-nets.ts's.
 *
 * Δ is max |ours − tfjs| / max |ours| (bench/layouts.ts's relativeDifference). Its bound is
 * 1e-4 where both sides compute in float32 on the CPU; 1e-3 on a GPU, whose drivers may fuse
 * and reorder float32 sums and whose transcendental functions are looser (WebGL's exp and
 * log carry no precision guarantee). The training step compares one step in eval mode (no
 * dropout: each side draws its own masks) from the same weights: the loss and the first
 * conv's SGD update, which passes through every layer's backward; that is a longer chain
 * of float32 sums, hence 10× the bound of a kernel.
 */
import { runRegistered, type Mode } from '../../lib/core/backend.js';
import { noGrad, tidy, Tensor } from '../../lib/core/tensor.js';
import { SGD } from '../../lib/optim/sgd.js';
import { Vgg, VGG_CONFIGS, type VggOptions } from '../../lib/models/vgg.js';
import { settle } from '../../kernels/pool.js';
import type { Conv2dDims } from '../../kernels/dims.js';
import { formulaArray, recycling, sgdStep } from '../../bench/values.js';
import { nchwToNhwc, oihwToHwio, relativeDifference, nchwIndex, hwioIndex, type Tf } from '../../bench/layouts.js';
import { vggToTfjs } from '../../bench/vgg-tfjs.js';
import type { Prepared, Rung } from './bench-timing.js';
import type * as TF from '@tensorflow/tfjs-core';

export interface Workload {
  id: string;
  /** what the row measures, as the table prints it */
  label: string;
  rungs: Rung[];
  /** builds rung `r` on both sides, tfjs on `backend` */
  build(r: number, tf: Tf, backend: string): Promise<Prepared>;
  /** the bound of Δ for our mode */
  bound(mode: Mode): number;
}

const GPU_MODES: ReadonlySet<Mode> = new Set<Mode>(['webgl2', 'webgpu']);
const kernelBound = (mode: Mode) => (GPU_MODES.has(mode) ? 1e-3 : 1e-4);

/** tfjs: read a result back to the host, then free it */
async function read(t: TF.Tensor): Promise<Float32Array> {
  const v = (await t.data()) as Float32Array;
  t.dispose();
  return v;
}

/** a smaller copy of a VGG layer's shape at each rung: the side halved, then the channels quartered */
function convLadder(C: number, S: number): { C: number; S: number }[] {
  const out: { C: number; S: number }[] = [];
  for (let s = S; s >= 4; s = Math.ceil(s / 2)) out.push({ C, S: s });
  if (C >= 64) out.push({ C: C / 4, S: out[out.length - 1].S });
  return out;
}

export type ConvPass = 'forward' | 'grad input' | 'grad weight';

/** the 3×3 convolution `pass` at the VGG layer Cin = Cout = C on S×S, batch 1 */
export function convWorkload(pass: ConvPass, C0: number, S0: number): Workload {
  const K = 3, N = 1;
  const ladder = convLadder(C0, S0);
  return {
    id: `conv3x3/${C0}@${S0}/${pass === 'forward' ? 'fwd' : pass === 'grad input' ? 'dx' : 'dw'}`,
    label: `conv 3×3 ${pass}`,
    rungs: ladder.map(({ C, S }) => ({ label: `${C}→${C} @${S}² b${N}`, flops: 2 * N * C * C * K * K * S * S })),
    bound: kernelBound,
    async build(r, tf, backend) {
      const { C, S } = ladder[r];
      const d: Conv2dDims = { N, Cin: C, Cout: C, H: S, W: S, K };
      const x = formulaArray(N * C * S * S, 1), dy = formulaArray(N * C * S * S, 2);
      const w = formulaArray(C * C * K * K, 3, 1 / Math.sqrt(C * K * K)), b = formulaArray(C, 4, 0.1);
      settle(w); // a parameter's filters, as the tensor core marks them (bench/cases-conv.ts)
      const t = {
        x: tf.tensor4d(nchwToNhwc(x, N, C, S, S), [N, S, S, C]), dy: tf.tensor4d(nchwToNhwc(dy, N, C, S, S), [N, S, S, C]),
        f: tf.tensor4d(oihwToHwio(w, C, C, K), [K, K, C, C]), b: tf.tensor1d(b),
      };
      const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC' };
      const dispose = () => tf.dispose([t.x, t.dy, t.f, t.b]);
      if (pass === 'forward') {
        return {
          ours: recycling(() => runRegistered('conv2dForward', x, w, b, d)),
          theirs: () => read(tf.fused.conv2d({ x: t.x, filter: t.f, strides: 1, pad: 'same', bias: t.b })),
          compare: (o, th) => relativeDifference(o, th, nchwIndex(C, S, S)), dispose,
        };
      }
      if (pass === 'grad input') {
        return {
          ours: recycling(() => runRegistered('conv2dBackwardInput', dy, w, d)),
          theirs: () => read(tf.engine().runKernel('Conv2DBackpropInput', { dy: t.dy, filter: t.f }, { ...attrs, inputShape: [N, S, S, C] } as unknown as TF.NamedAttrMap) as TF.Tensor),
          compare: (o, th) => relativeDifference(o, th, nchwIndex(C, S, S)), dispose,
        };
      }
      return {
        ours: recycling(() => runRegistered('conv2dBackwardWeight', dy, x, d)),
        theirs: tf.getKernel('Conv2DBackpropFilter', backend)
          ? () => read(tf.engine().runKernel('Conv2DBackpropFilter', { x: t.x, dy: t.dy }, { ...attrs, filterShape: [K, K, C, C] } as unknown as TF.NamedAttrMap) as TF.Tensor)
          : { none: `tfjs-${backend} has no Conv2DBackpropFilter kernel` },
        compare: (o, th) => relativeDifference(o, th, hwioIndex(C, C, K)), dispose,
      };
    },
  };
}

/** He-uniform weights from the formula, parameter j with seed 1000 + j (bench/cases-nets.ts's torchVgg) */
function fillFormula(model: Vgg): void {
  model.parameters().forEach((p, j) => {
    const fanIn = p.shape.length > 1 ? p.shape.slice(1).reduce((a, b) => a * b, 1) : 0;
    p.assign(Promise.resolve(formulaArray(p.size, 1000 + j, fanIn ? Math.sqrt(6 / fanIn) : 0.01)), 'bench page fillFormula');
  });
}

const describeVgg = (o: VggOptions, batch: number) =>
  `${o.inputSize}²${o.widthMultiplier && o.widthMultiplier !== 1 ? ` width ×${o.widthMultiplier}` : ''}${o.fcWidth ? ` FC ${o.fcWidth}` : ''} b${batch}`;
/**
 * Vgg#forwardFlops without building the net (a VGG-A at 224 takes 531 MB): Table 1's walk
 * with the widths of Vgg.parameterShapes, 2·Cin·Cout·k²·side² per conv, 2·in·out per FC
 */
function flopsOf(o: VggOptions, batch: number): number {
  const weights = Vgg.parameterShapes('A', o).filter(([name]) => name.endsWith('weight')).map(([, s]) => s);
  let side = o.inputSize ?? 224, flops = 0, i = 0;
  for (const spec of VGG_CONFIGS.A.layers) {
    if (spec === 'M') side = Math.floor(side / 2);
    else {
      const [out, inp, k] = weights[i++];
      flops += 2 * out * inp * k * k * side * side;
    }
  }
  for (const [out, inp] of weights.slice(i)) flops += 2 * out * inp;
  return flops * batch;
}

/** VGG-A (VGG-11) forward at 224, batch 1, eval mode; smaller inputs and widths down the ladder */
export function vggForwardWorkload(): Workload {
  const ladder: VggOptions[] = [
    { inputSize: 224 }, { inputSize: 128 }, { inputSize: 64 }, { inputSize: 64, widthMultiplier: 0.5, fcWidth: 1024 },
    { inputSize: 32, widthMultiplier: 0.25, fcWidth: 512 },
  ];
  return {
    id: 'vgg-a/fwd',
    label: 'VGG-A forward',
    rungs: ladder.map((o) => ({ label: describeVgg(o, 1), flops: flopsOf(o, 1) })),
    bound: kernelBound,
    async build(r, tf) {
      const model = Vgg.configA({ ...ladder[r], seed: 1 });
      fillFormula(model);
      model.eval();
      const S = ladder[r].inputSize!;
      const xv = formulaArray(3 * S * S, 13);
      const x = Tensor.from(xv, [1, 3, S, S]);
      const net = await vggToTfjs(tf, model);
      const xt = tf.tensor4d(nchwToNhwc(xv, 1, 3, S, S), [1, S, S, 3]);
      return {
        ours: () => noGrad(() => tidy(async () => model.forward(x).data())),
        theirs: () => read(net.forward(xt)),
        compare: (o, th) => relativeDifference(o, th),
        dispose: () => {
          net.dispose();
          xt.dispose();
          x.dispose();
          for (const p of model.parameters()) p.dispose();
        },
      };
    },
  };
}

const SGD_OPTIONS = { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 };

/** the CIFAR VGG-11 training step at batch 64; smaller batches and widths down the ladder */
export function trainWorkload(): Workload {
  const base: VggOptions = { inputSize: 32, numClasses: 10, fcWidth: 512 };
  const ladder: { o: VggOptions; batch: number }[] = [
    { o: base, batch: 64 }, { o: base, batch: 16 }, { o: base, batch: 4 }, { o: { ...base, widthMultiplier: 0.25 }, batch: 4 },
    { o: { ...base, widthMultiplier: 0.125, fcWidth: 128 }, batch: 2 },
  ];
  return {
    id: 'train/cifar-vgg11',
    label: 'CIFAR VGG-11 train step',
    // FLOPs counted as 3 × forward, as bench/run.ts
    rungs: ladder.map(({ o, batch }) => ({ label: describeVgg(o, batch).replace('FC 512 ', ''), flops: 3 * flopsOf(o, batch) })),
    bound: (mode) => 10 * kernelBound(mode),
    async build(r, tf, backend) {
      const { o, batch } = ladder[r];
      const model = Vgg.configA({ ...o, seed: 1 });
      fillFormula(model);
      const xv = formulaArray(batch * 3 * 32 * 32, 14);
      const x = Tensor.from(xv, [batch, 3, 32, 32]);
      const labels = Int32Array.from({ length: batch }, (_, i) => (i * 7 + 3) % 10);
      const net = await vggToTfjs(tf, model, { trainable: true });
      const opt = new SGD(model.parameters(), SGD_OPTIONS);
      const ourStep = async () => Float32Array.of(await sgdStep(model, opt, x, labels));
      const xt = tf.tensor4d(nchwToNhwc(xv, batch, 3, 32, 32), [batch, 32, 32, 3]);
      const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
      const weights = net.weights as TF.Variable[];
      const velocities = weights.map((w) => tf.variable(tf.zerosLike(w), false));
      // torch.optim.SGD's step, as ours (lib/optim/sgd.ts): v = m·v + g + wd·p; p −= lr·v
      const theirStep = async (training: boolean) => {
        const [loss, tail] = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(onehot, net.forward(xt, training)) as TF.Scalar, weights);
          weights.forEach((w, i) => {
            velocities[i].assign(tf.add(tf.mul(velocities[i], SGD_OPTIONS.momentum), tf.add(grads[w.name], tf.mul(w, SGD_OPTIONS.weightDecay))));
            w.assign(tf.sub(w, tf.mul(velocities[i], SGD_OPTIONS.lr)));
          });
          // read back with the loss: the GPU runs in order, so the last update is done too
          return [value, tf.sum(weights[weights.length - 1])];
        });
        const v = Float32Array.of((await read(loss))[0]);
        await read(tail);
        return v;
      };
      // the agreement: one step each in eval mode (no dropout) from the same weights
      const first = model.parameters()[0];
      const [Cout, Cin, K] = first.shape;
      const before = { ours: (await first.data()).slice(), theirs: ((await weights[0].data()) as Float32Array).slice() };
      model.eval();
      const oursLoss = (await ourStep())[0];
      const canTrain = !!tf.getKernel('Conv2DBackpropFilter', backend);
      let agreement = Number.POSITIVE_INFINITY;
      if (canTrain) {
        const theirsLoss = (await theirStep(false))[0];
        const update = (a: Float32Array, b: Float32Array) => a.map((v, i) => v - b[i]);
        const du = relativeDifference(update(await first.data(), before.ours), update((await weights[0].data()) as Float32Array, before.theirs), hwioIndex(Cout, Cin, K));
        agreement = Math.max(Math.abs(oursLoss - theirsLoss) / Math.abs(oursLoss), du);
      }
      model.train();
      return {
        ours: ourStep,
        theirs: canTrain ? () => theirStep(true) : { none: `tfjs-${backend} cannot train a convnet: no Conv2DBackpropFilter kernel` },
        compare: () => agreement,
        dispose: () => {
          tf.dispose([xt, onehot, ...velocities]);
          net.dispose();
          x.dispose();
          opt.zeroGrad();
          for (const p of model.parameters()) p.dispose();
        },
      };
    },
  };
}
