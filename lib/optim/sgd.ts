/**
 * SGD with momentum and weight decay, PyTorch's semantics (torch.optim.SGD, dampening 0,
 * no Nesterov), run by the `sgdVelocity` and `sgdParam` kernels (kernels/elementwise.ts):
 *
 *   d = grad + weightDecay · p;   v = momentum · v + d;   p = p − lr · v
 *
 * §3.1: batch 256, momentum 0.9, weight decay (L2 multiplier) 5·10⁻⁴, lr 10⁻² — the
 * defaults here. The velocity of each parameter is created on the first step, zero.
 */
import { Tensor, zeros, keep, withValues } from '../core/tensor.js';
import { runRegistered } from '../core/backend.js';
import { CheckpointError, ValueError, describeValue } from '../core/errors.js';

/** SGD's options; each one left out takes the paper's value (§3.1), in brackets. */
export interface SgdOptions {
  /** the learning rate (1e-2), a finite number >= 0 */
  lr?: number;
  /** the velocity's decay, in [0, 1) (0.9) */
  momentum?: number;
  /** the L2 multiplier: weightDecay·p is added to each gradient (5e-4), >= 0 */
  weightDecay?: number;
}

/** What stateDict() returns and a checkpoint stores: the hyper-parameters and the velocities. */
export interface SgdState {
  /** the learning rate at the time of the save (after any plateau divisions) */
  lr: number;
  /** the momentum */
  momentum: number;
  /** the L2 multiplier */
  weightDecay: number;
  /** velocity of each parameter, in parameter order (null before its first step) */
  velocities: (Float32Array | null)[];
}

/** lr (or weightDecay): a finite number >= 0, checked wherever it is set (a schedule, a loaded state, a user) */
function checkLr(where: string, lr: unknown, name = 'lr', Err: typeof ValueError | typeof CheckpointError = ValueError): number {
  if (typeof lr !== 'number' || !(lr >= 0) || !Number.isFinite(lr)) throw new Err(`${where}: expected ${name} to be a finite number >= 0, got ${describeValue(lr)}`);
  return lr;
}

/**
 * Stochastic gradient descent with momentum and weight decay, as torch.optim.SGD (dampening 0,
 * no Nesterov): `new SGD(model.parameters(), { lr: 1e-2 })`, then `await opt.step()` after each
 * backward. A bad parameter list or option is a ValueError naming SGD.
 */
export class SGD {
  private rate: number;
  /** the velocity's decay, in [0, 1) */
  readonly momentum: number;
  /** the L2 multiplier added to the gradients */
  readonly weightDecay: number;
  /** the parameters it updates, in the order the velocities are saved */
  readonly params: Tensor[];
  private velocities: (Tensor | null)[];

  constructor(params: Tensor[], options: SgdOptions = {}) {
    if (!Array.isArray(params) || params.length === 0 || params.some((p) => !(p instanceof Tensor))) {
      const bad = Array.isArray(params) ? params.findIndex((p) => !(p instanceof Tensor)) : -1;
      throw new ValueError('SGD: expected a non-empty array of parameter Tensors (model.parameters()), got ' +
        (!Array.isArray(params) ? describeValue(params) : params.length === 0 ? 'an empty array' : `${describeValue(params[bad])} at index ${bad}`));
    }
    if (options === null || typeof options !== 'object') throw new ValueError(`SGD: expected options { lr, momentum, weightDecay }, got ${describeValue(options)}`);
    const { lr = 1e-2, momentum = 0.9, weightDecay = 5e-4 } = options;
    // momentum 1 or more makes the velocity a sum that never forgets: the weights run away
    if (typeof momentum !== 'number' || !(momentum >= 0 && momentum < 1)) throw new ValueError(`SGD: expected momentum in [0, 1), got ${describeValue(momentum)}`);
    this.weightDecay = checkLr('SGD', weightDecay, 'weightDecay');
    this.params = params;
    this.rate = checkLr('SGD', lr);
    this.momentum = momentum;
    this.velocities = params.map(() => null);
  }

  /** the learning rate; setting it (as ReduceLROnPlateau does) checks it */
  get lr(): number {
    return this.rate;
  }

  /** Sets the learning rate; a ValueError naming SGD.lr unless a finite number >= 0. */
  set lr(value: number) {
    this.rate = checkLr('SGD.lr', value);
  }

  /** Updates every parameter that has a gradient; resolves when the new values are ready. */
  async step(): Promise<void> {
    const updates: Promise<unknown>[] = [];
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      const v = (this.velocities[i] ??= keep(zeros(p.shape)));
      const o = { lr: this.lr, momentum: this.momentum, weightDecay: this.weightDecay };
      const result = withValues('SGD.step', [p, p.grad, v], ([pv, gv, vv]) => runRegistered('sgdUpdate', pv, gv, vv, o));
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

  /**
   * The hyper-parameters and a copy of each velocity (null before the parameter's first step), for a checkpoint.
   */
  async stateDict(): Promise<SgdState> {
    return {
      lr: this.lr, momentum: this.momentum, weightDecay: this.weightDecay,
      velocities: await Promise.all(this.velocities.map((v) => (v ? v.data() : null))),
    };
  }

  /** Restores a stateDict(); a CheckpointError when it does not fit these parameters (count or sizes). */
  loadStateDict(state: SgdState): void {
    if (!state || typeof state !== 'object' || !Array.isArray(state.velocities)) {
      throw new CheckpointError(`SGD.loadStateDict: expected a state { lr, momentum, weightDecay, velocities } (from stateDict()), got ${describeValue(state)}`);
    }
    if (state.velocities.length !== this.params.length) {
      throw new CheckpointError(`SGD.loadStateDict: the state has ${state.velocities.length} velocities for ${this.params.length} parameters`);
    }
    state.velocities.forEach((v, i) => {
      if (v !== null && !(v instanceof Float32Array)) throw new CheckpointError(`SGD.loadStateDict: velocity ${i} is ${describeValue(v)}, expected a Float32Array or null`);
      if (v && v.length !== this.params[i].size) throw new CheckpointError(`SGD.loadStateDict: velocity ${i} has ${v.length} values, expected ${this.params[i].size}`);
    });
    this.rate = checkLr('SGD.loadStateDict', state.lr, 'lr', CheckpointError);
    this.velocities.forEach((v) => v?.dispose());
    this.velocities = state.velocities.map((v, i) => (v ? keep(Tensor.from(v, this.params[i].shape)) : null));
  }
}
