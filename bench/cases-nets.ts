/**
 * The whole-net rows of `npm run bench` (bench/run.ts): a VGG's forward pass in eval mode on
 * verydeep, tfjs-wasm (the same net in tfjs-core ops, vgg-tfjs.ts) and PyTorch, all with the
 * same weights; and a CIFAR VGG-11 training step (forward, loss, backward, SGD) on verydeep
 * and PyTorch.
 */
import { noGrad, tidy, Tensor, Vgg, optim } from '../lib/index.js';
import type { TorchRow } from './torch-peer.js';
import { nchwToNhwc, relativeDifference } from './tfjs-peer.js';
import { vggToTfjs } from './vgg-tfjs.js';
import { REFERENCES } from './report.js';
import { state, runRow, addCase, readback, randomArray, fmtC } from './rows.js';
import { sgdStep } from './values.js';

/**
 * torch-peer.py's description of `model`: its layers ('M' for a max-pool, a conv by its
 * output channels), widths, and for each parameter in order its name, shape and the
 * formula's (seed, scale), when `fill` also sets ours to those values (He-uniform scale)
 */
function torchVgg(model: Vgg, fill: boolean): Record<string, unknown> {
  const cfg = model.features.layers.flatMap((l): (number | 'M')[] => {
    const ps = l.parameters();
    if (ps.length) return [ps[0].shape[0]];
    if (l.constructor.name === 'MaxPool2d') return ['M'];
    if (l.constructor.name === 'ReLU') return [];
    throw new Error(`bench: torch-peer.py builds convs, ReLUs and max-pools only, not ${l.constructor.name}`);
  });
  const o = model.options;
  const params = model.namedParameters().map(([name, p], j) => {
    const fanIn = p.shape.length > 1 ? p.shape.slice(1).reduce((a, b) => a * b, 1) : 0;
    const seed = 1000 + j, scale = fanIn ? Math.sqrt(6 / fanIn) : 0.01;
    if (fill) p.assign(Promise.resolve(randomArray(p.size, seed, scale)), 'bench torchVgg');
    return { name, shape: [...p.shape], seed, scale };
  });
  return { cfg, inputSize: o.inputSize, fc: o.fcWidth, classes: o.numClasses, dropout: o.dropout, params: fill ? params : null };
}

export function vggForwardCase(config: 'A' | 'D', id: string, label: string, options: ConstructorParameters<typeof Vgg>[1], expectedParams: number | null, torchMs: number | null) {
  addCase([[id, label]], async () => {
    const tb = performance.now();
    const model = new Vgg(config, { seed: 1, ...options });
    model.eval();
    const params = model.parameterCount();
    const [N, C, H, W] = model.defaultInputShape();
    // weights from the formula, so that PyTorch computes with the same ones (tfjs copies them)
    const torchRow: TorchRow = { kind: 'vgg', ...torchVgg(model, true), N, x: [13, 1] };
    const xData = randomArray(N * C * H * W, 13);
    const x = Tensor.from(xData, [N, C, H, W]);
    console.log(`  ${model.describe()}: ${fmtC(params)} parameters${expectedParams ? ` (expected ${fmtC(expectedParams)})` : ''}, built in ${((performance.now() - tb) / 1000).toFixed(1)} s`);
    const net = state.peer ? await vggToTfjs(state.peer.tf, model) : null;
    const xt = state.peer ? state.peer.tf.tensor4d(nchwToNhwc(xData, N, C, H, W), [N, H, W, C]) : null;
    const notes = [`${model.describe()}, ${fmtC(params)} parameters, eval mode, noGrad; weights He-uniform from the formula of torch-peer.ts, the same on every side`];
    if (expectedParams !== null && params !== expectedParams) notes.push(`parameter count ${params} ≠ expected ${expectedParams}`);
    if (net) notes.push('tfjs: the same net and weights in tfjs-core ops (fused conv2d + bias + relu, maxPool, fused matMul)');
    if (torchMs !== null && !state.torch) notes.push(`PyTorch 1.13.1, 2 threads: ${torchMs} ms (PEERS.md)`);
    if (state.torch) notes.push('PyTorch: the same layers in torch.nn (torchvision\'s VGG without its average pool), eval(), torch.no_grad()');
    try {
      await runRow({
        id, label, group: 'vgg', pass: 'forward', batch: N, flops: model.forwardFlops() * N, bytes: null, notes,
        ours: () => noGrad(() => tidy(async () => model.forward(x).data())),
        peer: net && xt ? () => readback(net.forward(xt)) : { none: 'not run' },
        compare: (o, th) => relativeDifference(o, th),
        extra: () => ({ params }),
        torch: torchRow,
      });
    } finally {
      net?.dispose();
      xt?.dispose();
      x.dispose();
      for (const p of model.parameters()) p.dispose();
    }
  });
}

export function trainCase(batch: number) {
  const id = `train/cifar-vgg11/b${batch}`;
  const label = `train step CIFAR VGG-11 (config A, 32×32, FC 512) b${batch}`;
  addCase([[id, label]], async () => {
    const model = Vgg.configA({ inputSize: 32, numClasses: 10, fcWidth: 512, seed: 1 });
    const params = model.parameterCount();
    const expected = REFERENCES.cifarVgg11Params;
    console.log(`  ${model.describe()}: ${fmtC(params)} parameters (expected ${fmtC(expected)}${params === expected ? ', ok' : ', MISMATCH'})`);
    model.train();
    const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 });
    const x = Tensor.from(randomArray(batch * 3 * 32 * 32, 14), [batch, 3, 32, 32]);
    const labels = Int32Array.from({ length: batch }, (_, i) => (i * 7 + 3) % 10);
    const torchRow: TorchRow = {
      kind: 'train', ...torchVgg(model, false), N: batch, x: [14, 1], labels: [...labels], lr: 0.01, momentum: 0.9, weightDecay: 5e-4,
    };
    const flops = 3 * model.forwardFlops() * batch;
    const notes = [
      `config A conv stack on 32×32×3, FC 512→512→512→10, dropout 0.5, softmax cross-entropy, SGD lr 0.01 momentum 0.9 weight decay 5e-4; ${fmtC(params)} parameters${params === expected ? '' : ` (expected ${fmtC(expected)})`}`,
      `FLOPs counted as 3 × forward (${(model.forwardFlops() / 1e6).toFixed(1)} MFLOP per image) × ${batch}`,
    ];
    try {
      await runRow({
        id, label, group: 'train', pass: 'forward+backward+SGD', batch, flops, bytes: null, notes,
        ours: async () => Float32Array.of(await sgdStep(model, opt, x, labels)),
        peer: { none: 'tfjs-wasm cannot train a convnet: no Conv2DBackpropFilter kernel' },
        extra: (t) => ({ params, imagesPerSecond: batch / (t.medianMs / 1000) }),
        torch: torchRow,
        // each side draws its own dropout masks and initial weights: the losses are not comparable
        torchCompare: false,
      });
    } finally {
      x.dispose();
    }
  });
}
