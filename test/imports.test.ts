/**
 * Tests: imports point one way (issue #13). dependency-cruiser checks lib/ and kernels/ against
 * the rules in .dependency-cruiser.cjs, one assertion per rule, each failure naming the rule and
 * every offending import (from → to, with the import chain for the browser rule and the loop
 * for a cycle). Then the check is shown to bite: a copy of lib/ and kernels/ in a temp folder
 * gets one upward import per rule, and each rule must report its own.
 *
 * dependency-cruiser runs through its JS API: its CLI refuses Node < 22, the API runs here.
 */
import test from 'tape';
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ICruiseOptions, ICruiseResult, IForbiddenRuleType, IViolation } from 'dependency-cruiser';
// dependency-cruiser and typescript load when the suite runs (dynamic imports in checkImports), not
// whenever test/run.ts starts

/** The repository root (this file runs as dist/test/imports.test.js). */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const CRUISED = ['lib', 'kernels'];

/** The second pass of the config: the browser rule, cruised over static imports only. */
interface BrowserPass { entry: string; compilerOptions: Record<string, unknown>; forbidden: IForbiddenRuleType[]; options: ICruiseOptions }

interface Check {
  rules: IForbiddenRuleType[];
  violations: IViolation[];
  /** one line per violation: `from → to` (a cycle: its loop; the browser rule: its import chain) */
  lines: Map<string, string[]>;
  main: ICruiseResult;
  ms: number;
}

interface Libraries {
  cruise: typeof import('dependency-cruiser').cruise;
  extractDepcruiseOptions: typeof import('dependency-cruiser/config-utl/extract-depcruise-options').default;
  extractTSConfig: typeof import('dependency-cruiser/config-utl/extract-ts-config').default;
  ts: typeof import('typescript');
}

async function libraries(): Promise<Libraries> {
  const [{ cruise }, options, tsConfig, ts] = await Promise.all([
    import('dependency-cruiser'),
    import('dependency-cruiser/config-utl/extract-depcruise-options'),
    import('dependency-cruiser/config-utl/extract-ts-config'),
    import('typescript'),
  ]);
  return { cruise, extractDepcruiseOptions: options.default, extractTSConfig: tsConfig.default, ts: ts.default };
}

/** One cruise of `files` under `baseDir`; `compilerOptions` override tsconfig.json's where given. */
async function cruiseWith(lib: Libraries, baseDir: string, files: string[], options: ICruiseOptions, compilerOptions?: Record<string, unknown>): Promise<ICruiseResult> {
  const fileName = join(baseDir, options.tsConfig?.fileName ?? 'tsconfig.json');
  const { cruise, extractTSConfig, ts } = lib;
  const tsConfig = extractTSConfig(fileName);
  if (compilerOptions) {
    const converted = ts.convertCompilerOptionsFromJson(compilerOptions, baseDir);
    if (converted.errors.length) throw new Error(`.dependency-cruiser.cjs: browser.compilerOptions: ${converted.errors.map((e) => ts.flattenDiagnosticMessageText(e.messageText, ' ')).join('; ')}`);
    tsConfig.options = { ...tsConfig.options, ...converted.options };
  }
  const result = await cruise(files, { ...options, baseDir, tsConfig: { fileName } }, {}, { tsConfig });
  return result.output as ICruiseResult;
}

/** `from → to`; a cycle: its loop; a reachable rule: the import chain. */
function describe(v: IViolation): string {
  if (v.cycle?.length) return `${v.from} → ${v.cycle.map((c) => c.name).join(' → ')}`;
  if (v.via?.length) return `${v.from} → ${v.via.map((c) => c.name).join(' → ')}`;
  return `${v.from} → ${v.to}`;
}

/** Runs both passes of the config over `baseDir` (the repository root, or a copy of it). */
async function checkImports(baseDir: string): Promise<Check> {
  const started = Date.now();
  const lib = await libraries();
  const options = await lib.extractDepcruiseOptions(CONFIG);
  const browserPass = (createRequire(import.meta.url)(CONFIG) as { browser: BrowserPass }).browser;
  const main = await cruiseWith(lib, baseDir, CRUISED, options);
  const browser = await cruiseWith(lib, baseDir, [browserPass.entry], {
    ...browserPass.options, ruleSet: { forbidden: browserPass.forbidden }, validate: true,
  }, browserPass.compilerOptions);
  const rules = [...(options.ruleSet?.forbidden ?? []), ...browserPass.forbidden];
  const lines = new Map<string, string[]>(rules.map((r) => [r.name!, []]));
  const violations: IViolation[] = [];
  for (const v of [...main.summary.violations, ...browser.summary.violations]) {
    violations.push(v);
    lines.set(v.rule.name, [...(lines.get(v.rule.name) ?? []), describe(v)]);
  }
  return { rules, violations, lines, main, ms: Date.now() - started };
}

/** e.g. "no-kernels-to-lib (kernels → lib)": the rule's name and its picture, the comment's head. */
const title = (rule: IForbiddenRuleType) => `${rule.name} (${(rule.comment ?? '').split(': ')[0]})`;

export function registerImportTests(): void {
  test('imports: the import rules of .dependency-cruiser.cjs hold in lib/ and kernels/', async (t) => {
    const check = await checkImports(ROOT);
    const { main } = check;
    t.comment(`dependency-cruiser: ${main.modules.length} modules, ${main.summary.totalCruised} cruised, ${main.summary.totalDependenciesCruised} imports, both passes in ${check.ms} ms`);
    // the rules only see what the cruise resolves: every relative import must reach a file
    const unresolved = main.modules.flatMap((m) => m.dependencies.filter((d) => d.couldNotResolve && d.module.startsWith('.')).map((d) => `${m.source} → ${d.module}`));
    t.deepEqual(unresolved, [], 'every relative import in lib/ and kernels/ resolves to a .ts source');
    const edge = (from: string, to: string) => main.modules.find((m) => m.source === from)?.dependencies.some((d) => d.resolved === to) ?? false;
    t.ok(edge('lib/core/backend.ts', 'kernels/registry.ts') && edge('lib/core/ops.ts', 'lib/core/tensor.ts') && edge('lib/models/vgg.ts', 'lib/nn/layers.ts'), 'the cruise sees the imports (lib/core/backend.ts → kernels/registry.ts, lib/core/ops.ts → lib/core/tensor.ts, lib/models/vgg.ts → lib/nn/layers.ts)');
    for (const rule of check.rules) {
      const found = check.lines.get(rule.name!) ?? [];
      t.ok(found.length === 0, `${title(rule)}: ${found.length ? `${found.length} violation(s) of rule ${rule.name}:\n      ${found.join(';\n      ')}.\n    The rule: ${rule.comment}` : 'none'}`);
    }
    const ruleNames = new Set(check.rules.map((r) => r.name));
    const strays = check.violations.filter((v) => !ruleNames.has(v.rule.name)).map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
    t.deepEqual(strays, [], 'no violation of a rule outside the config\'s forbidden list');
    t.ok(check.ms < 20_000, `both passes take under 20 s (${check.ms} ms)`);
    t.end();
  });

  test('imports: an upward import in a copy of lib/ and kernels/ fails its rule, naming it', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'verydeep-imports-'));
    try {
      for (const name of ['lib', 'kernels']) cpSync(join(ROOT, name), join(dir, name), { recursive: true });
      cpSync(join(ROOT, 'tsconfig.json'), join(dir, 'tsconfig.json'));
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
      // one upward import per rule
      writeFileSync(join(dir, 'kernels/upward.ts'), `import { Tensor } from '../lib/core/tensor.js';\nexport const t = Tensor;\n`);
      appendFileSync(join(dir, 'lib/core/random.ts'), `\nimport type { Module } from '../nn/module.js';\nexport type M = Module;\n`); // also closes a cycle: nn → … → random
      writeFileSync(join(dir, 'lib/nn/upward.ts'), `import { Vgg } from '../models/vgg.js';\nexport const v = Vgg;\n`);
      writeFileSync(join(dir, 'lib/models/upward.ts'), `import { curvesSvg } from '../train/curves.js';\nexport const c = curvesSvg;\n`);
      writeFileSync(join(dir, 'lib/data/upward.ts'), `import { Linear } from '../nn/layers.js';\nexport const l = Linear;\n`);
      // the browser reaches lib/data/ statically: a static node: import there fails, a dynamic or a type-only one does not
      appendFileSync(join(dir, 'lib/data/transforms.ts'), `\nimport { cpus } from 'node:os';\nexport const cores = () => cpus().length;\n`);
      appendFileSync(join(dir, 'lib/data/loader.ts'), `\nexport const lazyCrypto = () => import('node:crypto');\n`);
      appendFileSync(join(dir, 'lib/data/array-dataset.ts'), `\nimport type { Worker } from 'node:worker_threads';\nexport type W = Worker;\n`);
      const check = await checkImports(dir);
      const expected: Record<string, RegExp> = {
        'no-kernels-to-lib': /^kernels\/upward\.ts → lib\/core\/tensor\.ts$/,
        'no-core-to-nn-models-train': /^lib\/core\/random\.ts → lib\/nn\/module\.ts$/,
        'no-nn-to-models': /^lib\/nn\/upward\.ts → lib\/models\/vgg\.ts$/,
        'no-models-to-train': /^lib\/models\/upward\.ts → lib\/train\/curves\.ts$/,
        'no-data-to-nn': /^lib\/data\/upward\.ts → lib\/nn\/layers\.ts$/,
        'no-circular': /lib\/core\/random\.ts → lib\/nn\/module\.ts/,
        'no-browser-to-node': /^lib\/browser\.ts → .*lib\/data\/transforms\.ts → (node:)?os$/,
      };
      t.deepEqual(check.rules.map((r) => r.name).sort(), Object.keys(expected).sort(), 'the config has the rules this test plants an upward import for');
      for (const [name, pattern] of Object.entries(expected)) {
        const found = check.lines.get(name) ?? [];
        t.ok(found.some((line) => pattern.test(line)), `${name} reports the planted import: ${found.join(' | ') || 'nothing'}`);
      }
      const browser = check.lines.get('no-browser-to-node') ?? [];
      t.deepEqual(browser.filter((line) => /(crypto|worker_threads)$/.test(line)), [], 'the browser rule skips the dynamic import(\'node:crypto\') in lib/data/loader.ts and the type-only node:worker_threads import in lib/data/array-dataset.ts');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    t.end();
  });
}
