/**
 * The Node fit's output folder, as the training loop's FitStore (loop.ts): each epoch ends
 * with an atomic checkpoint (weights, optimiser state, RNG states, schedule, history), then
 * history.json and curves.svg; a resume loads the checkpoint. The batch order and
 * augmentation of an epoch depend only on (seed, epoch), and every other random state is in
 * the checkpoint, so a resumed run ends with the same weights as an uninterrupted one.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { writeFileAtomic, type WriteOptions } from '../io/atomic.js';
import { makeFolder } from '../io/lock.js';
import { CheckpointError, DataError, messageOf } from '../core/errors.js';
import { CHECKPOINT, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { curvesSvg, type EpochRecord, type StepRecord } from './curves.js';
import type { FitStore, ResumedState, Training } from './loop.js';

/** Writes the curves as an SVG file (atomically); resolves to whether it wrote. */
export async function writeCurves(path: string, epochs: EpochRecord[], steps: StepRecord[], title: string, options: WriteOptions = {}): Promise<boolean> {
  return writeFileAtomic(path, await curvesSvg(epochs, steps, title), options);
}

/** The store of a run in `outDir`: `title` heads the curves, `config` is saved with each checkpoint. */
export function folderStore(outDir: string, title: string, config?: Record<string, unknown>): FitStore {
  const checkpoint = join(outDir, CHECKPOINT);
  let training: Training | null = null;
  const writeHistory = (history: EpochRecord[], options?: WriteOptions) => writeFileAtomic(join(outDir, 'history.json'), JSON.stringify(history, null, 2), options);
  return {
    checkpoint,
    async open(t: Training, resume: boolean): Promise<ResumedState | null> {
      training = t;
      try {
        makeFolder(outDir);
      } catch (e) {
        throw new DataError(`train.fit: cannot create the output folder ${outDir}: ${messageOf(e)}`, { cause: e });
      }
      if (!resume) return null;
      if (!existsSync(checkpoint)) throw new CheckpointError(`train.fit: resume needs a checkpoint, and ${checkpoint} does not exist`);
      const { epoch, history, steps } = await loadCheckpoint(checkpoint, t.model, t.opt, t.sched, 'train.fit');
      return { epoch, history, steps };
    },
    hasCheckpoint: () => existsSync(checkpoint),
    async epochEnd(epoch: number, history: EpochRecord[], steps: StepRecord[]): Promise<void> {
      const { model, opt, sched } = training!;
      await saveCheckpoint(checkpoint, model, opt, sched, { epoch, history, steps, config });
      await writeHistory(history);
      await writeCurves(join(outDir, 'curves.svg'), history, steps, title);
    },
    async finish(history: EpochRecord[], steps: StepRecord[]): Promise<string[]> {
      // the checkpoint is written first, so a run killed after it left these one epoch behind
      const completed: string[] = [];
      if (await writeHistory(history, { ifChanged: true })) completed.push('history.json');
      if (await writeCurves(join(outDir, 'curves.svg'), history, steps, title, { ifChanged: true })) completed.push('curves.svg');
      return completed;
    },
  };
}
