/**
 * The `verydeep` command line (bin/verydeep.js):
 *   verydeep train --config D --data mnist --width 0.25 --input 32 --epochs 4 --batch 64 --lr 0.01 --seed 1 --out runs/x [--resume]
 *   verydeep classify photo.jpg --weights model.safetensors [--labels labels.txt] [--protocol center|dense|multicrop]
 *   verydeep eval --data <folder> --weights model.safetensors --protocol dense|multicrop|both --scales 256,384,512
 *   verydeep export --format onnx --weights model.safetensors --out model.onnx [--batch dynamic|N] [--softmax]
 *   verydeep --version
 *
 * Every failure is one line on stderr, `error: <message>`, naming the flag at fault; the
 * exit code is 2 for a wrong command line (a UsageError: an unknown flag or command, a bad
 * flag value) and 1 for anything else. The stack trace is for developers: --debug or
 * VERYDEEP_DEBUG=1 prints it after the line.
 *
 * One file per command (train.ts, classify.ts, eval.ts, export.ts), their argument parsing in args.ts.
 */
import { readFileSync } from 'node:fs';
import { UsageError, VerydeepError, messageOf } from '../core/errors.js';
import { oneLine } from './args.js';
import { trainCommand } from './train.js';
import { classifyCommand } from './classify.js';
import { evalCommand } from './eval.js';
import { exportCommand } from './export.js';

export { parseTrainArgs, trainHelp } from './train.js';
export { classifyHelp } from './classify.js';
export { evalHelp } from './eval.js';
export { exportHelp } from './export.js';

/** the version in package.json (three folders up from dist/lib/cli/index.js) */
export function version(): string {
  return JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')).version;
}

export const USAGE = `Usage: verydeep <command> [options]

Commands:
  train      train a VGG on MNIST or Fashion-MNIST (verydeep train --help)
  classify   the top-5 classes of images, by a weights file (verydeep classify --help)
  eval       top-1 and top-5 error on a folder of labelled images (verydeep eval --help)
  export     a weights file as an ONNX model (verydeep export --help)

Options:
  --version, -V   print verydeep's version
  --debug         on an error, print its stack trace too (or set VERYDEEP_DEBUG=1)
  --help, -h      this help
`;

/**
 * Runs a command line (without `node verydeep`) and returns the exit code: 0, 1 for an
 * error, 2 for a wrong command line. Errors are printed, never thrown.
 */
export async function main(argv: string[]): Promise<number> {
  try {
    return await dispatch(argv[0] === '--debug' ? argv.slice(1) : argv);
  } catch (e) {
    return reportError(e, debugging(argv));
  }
}

/** whether errors print their stack: --debug anywhere on the command line, or VERYDEEP_DEBUG=1 */
export const debugging = (argv: string[]): boolean => argv.includes('--debug') || process.env.VERYDEEP_DEBUG === '1';

async function dispatch(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 1;
  }
  if (command === '--version' || command === '-V') {
    console.log(`verydeep ${version()}`);
    return 0;
  }
  if (command === 'train') return trainCommand(rest);
  if (command === 'classify') return classifyCommand(rest);
  if (command === 'eval') return evalCommand(rest);
  if (command === 'export') return exportCommand(rest);
  throw new UsageError(`verydeep: unknown ${command.startsWith('-') ? 'option' : 'command'} '${command}'; expected train, classify, eval, export, --version or --help`);
}

/**
 * Prints an error as one line, `error: <message>` (with the stack and causes under
 * --debug), and returns its exit code: 2 for a UsageError, else 1. An error that is not a
 * VerydeepError is a bug (or a library's), and the line says so.
 */
export function reportError(e: unknown, debug: boolean): number {
  const known = e instanceof VerydeepError;
  console.error(`error: ${oneLine(messageOf(e))}${known ? '' : ' (an unexpected error; --debug or VERYDEEP_DEBUG=1 shows where it came from)'}`);
  if (debug) {
    const stacks: string[] = [];
    for (let c: unknown = e; c !== undefined && stacks.length < 8; c = c instanceof Error ? c.cause : undefined) {
      stacks.push((stacks.length ? 'caused by: ' : '') + (c instanceof Error ? c.stack ?? c.message : String(c)));
    }
    console.error(stacks.join('\n'));
  }
  return e instanceof UsageError ? 2 : 1;
}
