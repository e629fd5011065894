/**
 * Progress of a long loop (training epochs, evaluation): on a terminal, a live bar
 * (cli-progress, a well-kept library, rather than our own escape codes) with named
 * columns and the ETA; without one (CI, a pipe, a log file), plain lines about every 10%
 * (progress-lines.ts, which a page gets too). The trainer's columns are loss, lr and img/s.
 * Node only: cli-progress writes to process.stdout.
 */
import cliProgress from 'cli-progress';
import { ProgressLines, type StepProgress } from './progress-lines.js';

/**
 * A loop's progress for Node: a live cli-progress bar when `interactive` (default: stdout is
 * a terminal), else ProgressLines' plain lines through `log`, about every 10% of `total`
 * steps. `columns` name the values each update shows (the trainer's: loss, lr, img/s).
 */
export class Progress implements StepProgress {
  private bar: cliProgress.SingleBar | null = null;
  private readonly lines: ProgressLines;

  constructor(label: string, total: number, log: (line: string) => void,
    columns: readonly string[], interactive = !!process.stdout.isTTY) {
    this.lines = new ProgressLines(label, total, log, columns);
    if (interactive) {
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
    if (this.bar) this.bar.update(step, Object.fromEntries(values.map((v, i) => [`c${i}`, v])));
    else this.lines.update(step, values);
  }

  /** ends the bar, leaving its last state on the terminal (no-op for plain lines) */
  stop(): void {
    this.bar?.stop();
  }
}
