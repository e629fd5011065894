/**
 * §3.1: "the learning rate was initially set to 10⁻², and then decreased by a factor of 10
 * when the validation set accuracy stopped improving. In total, the learning rate was
 * decreased 3 times". The paper does not say how long "stopped improving" is: `patience`
 * is the number of epochs without a new best accuracy (by more than `threshold`) that we
 * wait before dividing (1 here; PyTorch's ReduceLROnPlateau defaults to 10 for long runs).
 */
import { CheckpointError, ValueError, describeValue } from '../core/errors.js';

/** ReduceLROnPlateau's options; each one left out takes the value in brackets (§3.1's schedule). */
export interface PlateauOptions {
  /** what the lr is multiplied by on a plateau, in (0, 1) (0.1: "decreased by a factor of 10") */
  factor?: number;
  /** epochs without a new best that are tolerated before dividing, an integer >= 0 (1) */
  patience?: number;
  /** how many times the lr is divided at most (3: "decreased 3 times") */
  maxReductions?: number;
  /** how much an accuracy must beat the best by to count as a new best (1e-4) */
  threshold?: number;
}

/** What stateDict() returns and a checkpoint stores. */
export interface PlateauState {
  /** the best validation accuracy so far (-Infinity before the first step) */
  best: number;
  /** epochs since the last new best (or the last division) */
  badEpochs: number;
  /** how many times the lr has been divided */
  reductions: number;
}

/**
 * The paper's schedule (§3.1): divides the optimiser's lr by 10 when the validation accuracy
 * stops improving, at most 3 times; PyTorch's ReduceLROnPlateau in 'max' mode. Call step() once
 * an epoch. Bad options are a ValueError naming ReduceLROnPlateau.
 */
export class ReduceLROnPlateau {
  /** what the lr is multiplied by on a plateau */
  readonly factor: number;
  /** epochs without a new best tolerated before dividing */
  readonly patience: number;
  /** the most divisions */
  readonly maxReductions: number;
  /** the margin a new best must beat the old one by */
  readonly threshold: number;
  /** the best validation accuracy so far */
  best = -Infinity;
  /** epochs since the last new best or division */
  badEpochs = 0;
  /** divisions so far */
  reductions = 0;

  constructor(private readonly optimizer: { lr: number }, options: PlateauOptions = {}) {
    if (!optimizer || typeof optimizer.lr !== 'number') throw new ValueError(`ReduceLROnPlateau: expected an optimizer with a numeric lr (an optim.SGD), got ${describeValue(optimizer)}`);
    if (options === null || typeof options !== 'object') throw new ValueError(`ReduceLROnPlateau: expected options { factor, patience, maxReductions, threshold }, got ${describeValue(options)}`);
    const { factor = 0.1, patience = 1, maxReductions = 3, threshold = 1e-4 } = options;
    const isInteger = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
    if (typeof factor !== 'number' || !(factor > 0 && factor < 1)) throw new ValueError(`ReduceLROnPlateau: expected factor in (0, 1), got ${describeValue(factor)}`);
    if (!isInteger(patience) || patience < 0) throw new ValueError(`ReduceLROnPlateau: expected an integer patience >= 0, got ${describeValue(patience)}`);
    if (!isInteger(maxReductions) || maxReductions < 0) throw new ValueError(`ReduceLROnPlateau: expected an integer maxReductions >= 0, got ${describeValue(maxReductions)}`);
    if (typeof threshold !== 'number' || !(threshold >= 0) || !Number.isFinite(threshold)) {
      throw new ValueError(`ReduceLROnPlateau: expected threshold to be a finite number >= 0, got ${describeValue(threshold)}`);
    }
    this.factor = factor;
    this.patience = patience;
    this.maxReductions = maxReductions;
    this.threshold = threshold;
  }

  /** Call once per epoch with the validation accuracy; returns true when the lr was divided. */
  step(validationAccuracy: number): boolean {
    // NaN would count as an epoch without improvement, and divide the lr for nothing
    if (typeof validationAccuracy !== 'number' || !Number.isFinite(validationAccuracy)) {
      throw new ValueError(`ReduceLROnPlateau.step: expected the validation accuracy as a finite number, got ${describeValue(validationAccuracy)}`);
    }
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

  /** The schedule's progress, for a checkpoint. */
  stateDict(): PlateauState {
    return { best: this.best, badEpochs: this.badEpochs, reductions: this.reductions };
  }

  /** Restores a stateDict(); a CheckpointError for anything else. */
  loadStateDict(s: PlateauState): void {
    const ok = s && typeof s === 'object' && typeof s.best === 'number' && !Number.isNaN(s.best) &&
      [s.badEpochs, s.reductions].every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0);
    if (!ok) throw new CheckpointError(`ReduceLROnPlateau.loadStateDict: expected a state { best, badEpochs, reductions } (from stateDict()), got ${s && typeof s === 'object' ? JSON.stringify(s) : describeValue(s)}`);
    Object.assign(this, { best: s.best, badEpochs: s.badEpochs, reductions: s.reductions });
  }
}
