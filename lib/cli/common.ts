/** What classify and eval share beyond their flags: checked paths, class names, the preprocessing in words. */
import { readFileSync, statSync } from 'node:fs';
import type { Preprocessing } from '../data/preprocess.js';
import { DataError, messageOf } from '../core/errors.js';

/** class names from a file of one name per line; class k is `class k` without one */
export function readLabels(path: string | undefined, numClasses: number): string[] {
  if (!path) return Array.from({ length: numClasses }, (_, k) => `class ${k}`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DataError(`--labels: cannot read ${path}: ${messageOf(e)}`, { cause: e });
  }
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  while (lines.length && !lines[lines.length - 1]) lines.pop();
  if (lines.length !== numClasses) throw new DataError(`--labels: ${path} has ${lines.length} class names, but the model has ${numClasses} classes`);
  return lines;
}

export const describePreprocessing = (p: Preprocessing) => `${p.channelOrder}, ${p.range}, mean [${p.mean.join(', ')}], std [${p.std.join(', ')}]`;

/** Checks that each path names a file (or a folder, with `folder`) before any work: a DataError naming the flag or argument. */
export function checkPaths(command: string, what: string, paths: string[], folder = false): void {
  const problems = paths.map((path) => {
    const s = statSync(path, { throwIfNoEntry: false });
    return !s ? `${path} does not exist` : folder !== s.isDirectory() ? `${path} is ${folder ? 'not a folder' : 'a folder'}` : null;
  }).filter((p): p is string => p !== null);
  if (problems.length) throw new DataError(`verydeep ${command}: ${what}: ${problems.join(', ')}`);
}
