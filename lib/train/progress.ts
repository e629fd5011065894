/**
 * Progress of a long loop (training epochs, evaluation): on a terminal, a live bar
 * (cli-progress, a well-kept library, rather than our own escape codes) with named
 * columns and the ETA; without one (CI, a pipe, a log file), plain lines about every 10%.
 * The trainer's columns are loss, lr and img/s.
 */
import cliProgress from 'cli-progress';

export class Progress {
  private bar: cliProgress.SingleBar | null = null;
  private lastLine = -1;
  private readonly started = Date.now();

  constructor(private readonly label: string, private readonly total: number, private readonly log: (line: string) => void,
    private readonly columns: readonly string[], private readonly interactive = !!process.stdout.isTTY) {
    if (this.interactive) {
      const fields = columns.map((c, i) => `${c} {c${i}}`).join(' | ');
      this.bar = new cliProgress.SingleBar({
        format: `${label} |{bar}| {value}/{total} | ${fields} | ETA {eta_formatted}`,
        hideCursor: true, clearOnComplete: false, etaBuffer: 20,
      }, cliProgress.Presets.shades_classic);
      this.bar.start(total, 0, Object.fromEntries(columns.map((_, i) => [`c${i}`, '-'])));
    }
  }

  /** `values` in the order of the columns, already formatted */
  update(step: number, values: readonly string[]): void {
    if (this.bar) {
      this.bar.update(step, Object.fromEntries(values.map((v, i) => [`c${i}`, v])));
      return;
    }
    const tenth = Math.floor((10 * step) / this.total);
    if (tenth !== this.lastLine || step === this.total) {
      this.lastLine = tenth;
      const elapsed = (Date.now() - this.started) / 1000;
      const eta = step > 0 ? (elapsed / step) * (this.total - step) : 0;
      this.log(`${this.label} step ${step}/${this.total} ${this.columns.map((c, i) => `${c} ${values[i]}`).join(' ')} ETA ${eta.toFixed(0)}s`);
    }
  }

  stop(): void {
    this.bar?.stop();
  }
}
