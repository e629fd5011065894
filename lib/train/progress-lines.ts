/**
 * Progress of a loop as plain log lines, about every 10% of its steps, with the ETA: what a
 * page, a pipe or a log file gets. Browser-safe (the training loop's default); the Node
 * entry's Progress (progress.ts) draws a live bar on a terminal and falls back to this.
 */

/** what the training loop tells about its steps */
export interface StepProgress {
  /** `values` in the order of the columns, already formatted */
  update(step: number, values: readonly string[]): void;
  /** ends the progress: after the last step, or when the loop stops early (an error, an abort) */
  stop(): void;
}

export class ProgressLines implements StepProgress {
  private lastLine = -1;
  private readonly started = Date.now();

  constructor(private readonly label: string, private readonly total: number, private readonly log: (line: string) => void,
    private readonly columns: readonly string[]) {}

  update(step: number, values: readonly string[]): void {
    const tenth = Math.floor((10 * step) / this.total);
    if (tenth !== this.lastLine || step === this.total) {
      this.lastLine = tenth;
      const elapsed = (Date.now() - this.started) / 1000;
      const eta = step > 0 ? (elapsed / step) * (this.total - step) : 0;
      this.log(`${this.label} step ${step}/${this.total} ${this.columns.map((c, i) => `${c} ${values[i]}`).join(' ')} ETA ${eta.toFixed(0)}s`);
    }
  }

  stop(): void {}
}
