#!/usr/bin/env node
// The `verydeep` command (package.json "bin"). The TypeScript sources are compiled to dist/
// by `npm run build` (npm test and npm run demo build first).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/lib/cli/index.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  console.error('error: verydeep: dist/ is not built yet; run `npm run build` first');
  process.exit(1);
}
const { main, reportError, debugging } = await import(cli.href);
// main prints its own errors; these are for one thrown outside it (from a timer or a stray
// promise): one line too, the stack only under --debug or VERYDEEP_DEBUG=1
const fatal = (e) => process.exit(reportError(e, debugging(process.argv)));
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);
process.exitCode = await main(process.argv.slice(2));
