#!/usr/bin/env node
// `npm test`: runs the built test suite (dist/test/run.js, built by `pretest`). Where
// headless-gl is built and no display is set, it runs under `xvfb-run -a`, so that the
// kernel checks also run on the headlessgl mode (Mesa's software GL here).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const runner = ['dist/test/run.js'];
let glBuilt = false;
try {
  glBuilt = existsSync(require.resolve('gl/build/Release/webgl.node'));
} catch { /* gl is optional */ }
const hasXvfb = spawnSync('sh', ['-c', 'command -v xvfb-run'], { stdio: 'ignore' }).status === 0;
const useXvfb = glBuilt && hasXvfb && !process.env.DISPLAY;
if (!glBuilt) console.log('# headless-gl is not built: the headlessgl mode will be skipped (scripts/setup-gl.sh builds it)');
else if (!process.env.DISPLAY && !hasXvfb) console.log('# no display and no xvfb-run: the headlessgl mode will be skipped');
const [cmd, args] = useXvfb ? ['xvfb-run', ['-a', '-s', '-screen 0 640x480x24', process.execPath, ...runner]] : [process.execPath, runner];
const r = spawnSync(cmd, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
