/**
 * Tests: kill -9 during training, then --resume ends bit for bit where an uninterrupted run
 * ends (issue 12). A quick version of scripts/crash-test.ts (same functions, a run of 16
 * steps an epoch): one uninterrupted reference run, then four moments, each killed with
 * SIGKILL, its folder checked, and resumed (restarted while there is no checkpoint) to the end.
 */
import test from 'tape';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { after, afterWrite, compareFolders, crashRunFlags, describeResult, insideWrite, inspectFolder, lines, playMoment, runTrain, writesAfter, type Moment, type TimelineEvent } from '../scripts/crash-test.js';

const E = 3;
const FLAGS = crashRunFlags('wasm', 512, E);

const MOMENTS: { moment: Moment; resumes: number; restarts: number; inside?: string }[] = [
  // no checkpoint yet: the run is started again without --resume
  { moment: { name: 'during epoch 1', kills: [after(lines.epochStarted(1, E))] }, resumes: 0, restarts: 1 },
  // as the first checkpoint's temporary file appears: the rename is not done, so again no checkpoint
  { moment: { name: 'inside the first checkpoint write', kills: [insideWrite(1, E, 'checkpoint.safetensors')] }, resumes: 0, restarts: 1, inside: 'checkpoint.safetensors' },
  { moment: { name: 'during the last epoch', kills: [after(lines.epochStarted(E, E))] }, resumes: 1, restarts: 0 },
  // the last checkpoint is in place, the final weights not yet: the resume has no epoch left, and must still write them
  { moment: { name: 'right after the last checkpoint is renamed in', kills: [afterWrite(E, E, 'checkpoint.safetensors')] }, resumes: 1, restarts: 0 },
];

export function registerCrashTests(): void {
  test('crash: kill -9 at four moments of a training run; every file readable after the kill, and the resumed run bit for bit the uninterrupted one', async (t) => {
    const base = mkdtempSync(join(tmpdir(), 'verydeep-crash-test-'));
    const ref = join(base, 'reference');
    try {
      const timeline: TimelineEvent[] = [];
      mkdirSync(ref);
      const reference = await runTrain(FLAGS, ref, { timeline });
      t.equal(reference.code, 0, `the uninterrupted run finishes (${reference.lastLine})`);
      if (reference.code !== 0) return;
      const refState = await inspectFolder(ref);
      t.deepEqual(refState.problems, [], `the reference's files all parse: ${refState.files.join(', ')}`);
      t.deepEqual(await compareFolders(ref, ref), [], 'compareFolders finds a folder equal to itself');
      // the checks can fail: one bit of the last weight flipped, a checkpoint cut short
      const bad = join(base, 'damaged');
      cpSync(ref, bad, { recursive: true });
      const model = readFileSync(join(bad, 'model.safetensors'));
      model[model.length - 1] ^= 1;
      writeFileSync(join(bad, 'model.safetensors'), model);
      t.ok((await compareFolders(ref, bad)).some((d) => /^model\.safetensors: '.*' differs in 1 of \d+ values/.test(d)), 'compareFolders finds one flipped bit of the weights');
      truncateSync(join(bad, 'checkpoint.safetensors'), 1000);
      const damaged = await inspectFolder(bad);
      t.ok(damaged.problems.length === 1 && damaged.problems[0].startsWith('checkpoint.safetensors: '), `inspectFolder finds the cut checkpoint: ${damaged.problems[0]}`);
      const checkpoint = writesAfter(timeline, lines.epochDone(1, E)).find((w) => w.file === 'checkpoint.safetensors');
      t.ok(checkpoint && checkpoint.endMs > checkpoint.startMs, `the reference's first checkpoint write was seen and timed: ${checkpoint ? `${checkpoint.startMs.toFixed(1)}–${checkpoint.endMs.toFixed(1)} ms after its line` : 'not seen'}`);
      for (const [i, { moment, resumes, restarts, inside }] of MOMENTS.entries()) {
        const r = await playMoment(FLAGS, ref, join(base, `m${i}`), moment);
        const d = describeResult(r);
        t.equal(r.kills, moment.kills.length, `${moment.name}: the kill landed (last line before it: '${r.lastLines[0] ?? ''}')`);
        t.deepEqual(r.afterKills.flatMap((s) => s.problems), [], `${moment.name}: every file after the kill parses: ${d.files}`);
        if (inside) t.ok(r.afterKills[0]?.strays.some((f) => f.startsWith(`.${inside}.tmp-`)), `${moment.name}: the kill came inside the ${inside} write (its temporary file is left: ${r.afterKills[0]?.strays.join(', ')})`);
        t.equal(r.failure, undefined, `${moment.name}: the run goes on to the end (${d.runs})`);
        t.deepEqual([r.resumes, r.restarts], [resumes, restarts], `${moment.name}: ${resumes} resumes, ${restarts} restarts`);
        t.deepEqual(r.differences, [], `${moment.name}: the final weights, checkpoint, history and curves are the reference's, bit for bit`);
      }
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
}
