#!/usr/bin/env node
// The `verydeep` command (package.json "bin"). The TypeScript sources are compiled to dist/
// by `npm run build` (npm test and npm run demo build first).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/lib/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  console.error('verydeep: dist/ is not built yet; run `npm run build` first');
  process.exit(1);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv.slice(2));
