/**
 * Training progress: on a terminal, a live bar (cli-progress, a well-kept library, rather
 * than our own escape codes) with epoch, step, loss, lr, images/s and ETA; without one
 * (CI, a pipe, a log file), plain lines about every 10% of an epoch.
 */
import cliProgress from 'cli-progress';

export interface StepInfo {
  step: number;
  loss: number;
  lr: number;
  imagesPerSecond: number;
}

export class Progress {
  private bar: cliProgress.SingleBar | null = null;
  private lastLine = -1;
  private readonly started = Date.now();

  constructor(private readonly label: string, private readonly total: number, private readonly log: (line: string) => void,
    private readonly interactive = !!process.stdout.isTTY) {
    if (this.interactive) {
      this.bar = new cliProgress.SingleBar({
        format: `${label} |{bar}| {value}/{total} | loss {loss} | lr {lr} | {ips} img/s | ETA {eta_formatted}`,
        hideCursor: true, clearOnComplete: false, etaBuffer: 20,
      }, cliProgress.Presets.shades_classic);
      this.bar.start(total, 0, { loss: '-', lr: '-', ips: '-' });
    }
  }

  update(s: StepInfo): void {
    const fields = { loss: s.loss.toFixed(4), lr: s.lr.toExponential(2), ips: s.imagesPerSecond.toFixed(1) };
    if (this.bar) {
      this.bar.update(s.step, fields);
      return;
    }
    const tenth = Math.floor((10 * s.step) / this.total);
    if (tenth !== this.lastLine || s.step === this.total) {
      this.lastLine = tenth;
      const elapsed = (Date.now() - this.started) / 1000;
      const eta = s.step > 0 ? (elapsed / s.step) * (this.total - s.step) : 0;
      this.log(`${this.label} step ${s.step}/${this.total} loss ${fields.loss} lr ${fields.lr} ${fields.ips} img/s ETA ${eta.toFixed(0)}s`);
    }
  }

  stop(): void {
    this.bar?.stop();
  }
}
