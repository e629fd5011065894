/**
 * SGD with momentum and weight decay, PyTorch's semantics (torch.optim.SGD, dampening 0,
 * no Nesterov), run by the `sgdVelocity` and `sgdParam` kernels (kernels/elementwise.ts):
 *
 *   d = grad + weightDecay · p;   v = momentum · v + d;   p = p − lr · v
 *
 * §3.1: batch 256, momentum 0.9, weight decay (L2 multiplier) 5·10⁻⁴, lr 10⁻² — the
 * defaults here. The velocity of each parameter is created on the first step, zero.
 */
import { Tensor, zeros, keep, withValues } from '../tensor.js';
import { sgdUpdate } from '../../kernels/elementwise.js';

export interface SgdOptions {
  lr?: number;
  momentum?: number;
  weightDecay?: number;
}

export interface SgdState {
  lr: number;
  momentum: number;
  weightDecay: number;
  /** velocity of each parameter, in parameter order (null before its first step) */
  velocities: (Float32Array | null)[];
}

export class SGD {
  lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly params: Tensor[];
  private velocities: (Tensor | null)[];

  constructor(params: Tensor[], options: SgdOptions = {}) {
    const { lr = 1e-2, momentum = 0.9, weightDecay = 5e-4 } = options;
    if (!Array.isArray(params) || params.length === 0 || params.some((p) => !(p instanceof Tensor))) {
      throw new Error('SGD: expected a non-empty array of parameter Tensors (model.parameters())');
    }
    for (const [name, v] of [['lr', lr], ['momentum', momentum], ['weightDecay', weightDecay]] as const) {
      if (!(v >= 0) || !Number.isFinite(v)) throw new Error(`SGD: expected ${name} to be a finite number >= 0, got ${v}`);
    }
    this.params = params;
    this.lr = lr;
    this.momentum = momentum;
    this.weightDecay = weightDecay;
    this.velocities = params.map(() => null);
  }

  /** Updates every parameter that has a gradient; resolves when the new values are ready. */
  async step(): Promise<void> {
    const updates: Promise<unknown>[] = [];
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      const v = (this.velocities[i] ??= keep(zeros(p.shape)));
      const o = { lr: this.lr, momentum: this.momentum, weightDecay: this.weightDecay };
      const result = withValues('SGD.step', [p, p.grad, v], ([pv, gv, vv]) => sgdUpdate(pv, gv, vv, o));
      p.assign(result.then((r) => r.param), 'SGD.step');
      v.assign(result.then((r) => r.velocity), 'SGD.step');
      updates.push(p.settled('SGD.step'), v.settled('SGD.step'));
    });
    await Promise.all(updates);
  }

  /** Frees every gradient (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  async stateDict(): Promise<SgdState> {
    return {
      lr: this.lr, momentum: this.momentum, weightDecay: this.weightDecay,
      velocities: await Promise.all(this.velocities.map((v) => (v ? v.data() : null))),
    };
  }

  loadStateDict(state: SgdState): void {
    if (state.velocities.length !== this.params.length) {
      throw new Error(`SGD.loadStateDict: the state has ${state.velocities.length} velocities for ${this.params.length} parameters`);
    }
    state.velocities.forEach((v, i) => {
      if (v && v.length !== this.params[i].size) throw new Error(`SGD.loadStateDict: velocity ${i} has ${v.length} values, expected ${this.params[i].size}`);
    });
    this.lr = state.lr;
    this.velocities.forEach((v) => v?.dispose());
    this.velocities = state.velocities.map((v, i) => (v ? keep(Tensor.from(v, this.params[i].shape)) : null));
  }
}
