/**
 * Argument parsing for every `verydeep` command, in one place: the flag specs, the readers
 * of flag values (num, oneOf, list), the option groups commands share, node:util's
 * parseArgs with its errors made one UsageError line, and a command's help text.
 */
import { parseArgs } from 'node:util';
import { MODES } from '../core/backend.js';
import { VGG_CONFIGS } from '../models/vgg.js';
import { PREPROCESSING_PRESETS } from '../io/weights.js';
import { UsageError, messageOf } from '../core/errors.js';

/** a command-line option: its type, its help line, and how its value is read */
export interface FlagSpec {
  type: 'string' | 'boolean';
  help: string;
  parse?: (v: string) => unknown;
}

/** a flag's number (the range of train's is checked by checkRunOptions, so that runTraining gets the same checks) */
export const num = (name: string, integer = false, command = 'train', min = -Infinity) => (v: string) => {
  const n = Number(v);
  if (!v.trim() || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min) {
    throw new UsageError(`verydeep ${command}: --${name} expects ${integer ? 'an integer' : 'a number'}${min > -Infinity ? ` ≥ ${min}` : ''}, got '${v}'`);
  }
  return n;
};

export const oneOf = (command: string, name: string, choices: string[]) => (v: string) => {
  if (!choices.includes(v)) throw new UsageError(`verydeep ${command}: --${name} expects ${choices.map((c) => `'${c}'`).join(', ')}, got '${v}'`);
  return v;
};
export const list = (command: string, name: string) => (v: string) => v.split(',').map(num(name, true, command, 1));

/** the flags every command takes */
export const COMMON_OPTIONS = {
  debug: { type: 'boolean', help: 'on an error, print its stack trace too (or set VERYDEEP_DEBUG=1)' },
  help: { type: 'boolean', help: 'this help' },
} as const;

// classify and eval: a weights file, the preprocessing its weights expect, real images

/** the options of classify and eval that say which model a weights file holds */
export const weightsOptions = (command: string): Record<string, FlagSpec> => ({
  weights: { type: 'string', help: 'a safetensors file of VGG weights: verydeep\'s (io.saveSafetensors) or a torchvision state_dict' },
  labels: { type: 'string', help: 'class names, one per line, class 0 first (class 0, class 1, ...)' },
  config: { type: 'string', parse: oneOf(command, 'config', Object.keys(VGG_CONFIGS)), help: 'VGG configuration (the file\'s; for a torchvision file, from its number of convs)' },
  input: { type: 'string', parse: num('input', true, command, 1), help: 'input size of the net (the file\'s; for a torchvision file, 32 × the side of FC6\'s input map)' },
  naming: { type: 'string', parse: oneOf(command, 'naming', ['verydeep', 'torchvision']), help: 'tensor names (the file\'s; torchvision for a file without verydeep\'s metadata)' },
  preprocessing: { type: 'string', parse: oneOf(command, 'preprocessing', Object.keys(PREPROCESSING_PRESETS)), help: 'torchvision (RGB, 0-1, ImageNet mean and std) or caffe (BGR, 0-255, mean subtraction) (the file\'s; torchvision where it does not say)' },
  grid: { type: 'string', parse: num('grid', true, command, 1), help: 'multicrop: crops per side of the grid (5: 25 crops per scale)' },
  'no-flip': { type: 'boolean', help: 'dense and multicrop: leave out the horizontal flips' },
  backend: { type: 'string', parse: oneOf(command, 'backend', [...MODES, 'auto']), help: `${[...MODES, 'auto'].join(', ')} (auto)` },
});

/** A command's help: its usage line, what it does, then one row per option. */
export function helpText(usage: string, about: string, options: Record<string, FlagSpec>): string {
  const rows = Object.entries(options).map(([name, o]) => `  --${name}${o.type === 'string' ? ' <value>' : ''}`.padEnd(28) + o.help);
  return [usage, '', about, '', ...rows].join('\n');
}

/** node:util's parseArgs, its errors (several lines, no command) made one UsageError line */
export function parseCommandLine(command: string, specs: Record<string, FlagSpec>, argv: string[], allowPositionals: boolean) {
  // `--lr -1` means --lr=-1 (parseArgs calls it ambiguous), so that the range check can say what is wrong with -1
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [a, next] = [argv[i], argv[i + 1]];
    if (a.startsWith('--') && specs[a.slice(2)]?.type === 'string' && next !== undefined && /^-[\d.]/.test(next)) args.push(`${a}=${argv[++i]}`);
    else args.push(a);
  }
  try {
    return parseArgs({
      args, strict: true, allowPositionals,
      options: Object.fromEntries(Object.entries(specs).map(([name, o]) => [name, { type: o.type }])),
    });
  } catch (e) {
    if (!String((e as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')) throw e;
    throw new UsageError(`verydeep ${command}: ${oneLine(messageOf(e))} (verydeep ${command} --help lists the options)`, { cause: e });
  }
}

export const oneLine = (text: string) => text.split('\n').map((l) => l.trim()).filter(Boolean).join(' ');

export function parseFlags(command: string, specs: Record<string, FlagSpec>, argv: string[], allowPositionals: boolean): { flags: Record<string, any>; positionals: string[] } {
  const { values, positionals } = parseCommandLine(command, specs, argv, allowPositionals);
  const flags = Object.fromEntries(Object.entries(values).map(([name, v]) => [name, specs[name].parse ? specs[name].parse!(v as string) : v]));
  return { flags, positionals };
}

/** Parses a command's flags and runs it; --help prints its help. */
export async function runCommand(command: string, argv: string[], specs: Record<string, FlagSpec>, help: () => string, allowPositionals: boolean,
  run: (positionals: string[], flags: Record<string, any>) => Promise<number>): Promise<number> {
  const parsed = parseFlags(command, specs, argv, allowPositionals);
  if (parsed.flags.help) {
    console.log(help());
    return 0;
  }
  return run(parsed.positionals, parsed.flags);
}
