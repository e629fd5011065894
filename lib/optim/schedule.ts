/**
 * §3.1: "the learning rate was initially set to 10⁻², and then decreased by a factor of 10
 * when the validation set accuracy stopped improving. In total, the learning rate was
 * decreased 3 times". The paper does not say how long "stopped improving" is: `patience`
 * is the number of epochs without a new best accuracy (by more than `threshold`) that we
 * wait before dividing (1 here; PyTorch's ReduceLROnPlateau defaults to 10 for long runs).
 */
export interface PlateauOptions {
  factor?: number;
  patience?: number;
  maxReductions?: number;
  threshold?: number;
}

export interface PlateauState {
  best: number;
  badEpochs: number;
  reductions: number;
}

export class ReduceLROnPlateau {
  readonly factor: number;
  readonly patience: number;
  readonly maxReductions: number;
  readonly threshold: number;
  best = -Infinity;
  badEpochs = 0;
  reductions = 0;

  constructor(private readonly optimizer: { lr: number }, options: PlateauOptions = {}) {
    const { factor = 0.1, patience = 1, maxReductions = 3, threshold = 1e-4 } = options;
    if (!(factor > 0 && factor < 1)) throw new Error(`ReduceLROnPlateau: expected factor in (0, 1), got ${factor}`);
    if (!Number.isInteger(patience) || patience < 0) throw new Error(`ReduceLROnPlateau: expected an integer patience >= 0, got ${patience}`);
    this.factor = factor;
    this.patience = patience;
    this.maxReductions = maxReductions;
    this.threshold = threshold;
  }

  /** Call once per epoch with the validation accuracy; returns true when the lr was divided. */
  step(validationAccuracy: number): boolean {
    if (validationAccuracy > this.best + this.threshold) {
      this.best = validationAccuracy;
      this.badEpochs = 0;
      return false;
    }
    this.badEpochs++;
    if (this.badEpochs > this.patience && this.reductions < this.maxReductions) {
      this.optimizer.lr *= this.factor;
      this.reductions++;
      this.badEpochs = 0;
      return true;
    }
    return false;
  }

  stateDict(): PlateauState {
    return { best: this.best, badEpochs: this.badEpochs, reductions: this.reductions };
  }

  loadStateDict(s: PlateauState): void {
    Object.assign(this, { best: s.best, badEpochs: s.badEpochs, reductions: s.reductions });
  }
}
