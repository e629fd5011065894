/**
 * The web playground's page (examples/web/index.html): trains the Playground's small VGG-A
 * (playground.ts) step by step and shows, live, the loss curve, the first-layer filters,
 * each block's activations for the current digit, and the top-3 guesses for a digit drawn
 * on the pad. Plain DOM and canvas.
 *
 * The tab never freezes: the loop awaits a macrotask (setTimeout 0) after every step, so
 * the browser paints and handles input between steps. URL parameters:
 *   ?mode=auto|wasm|webgpu|webgl2|webasm|cpu   the mode (auto: the fastest of a short probe on
 *                  each mode, whose figures the page shows); a mode that cannot run here is
 *                  not replaced by another: the page says why (the BackendError's message)
 *   &batch=16      images per SGD step
 *   &limit=N       train on the first N training digits only (the test overfits 16)
 *   &autostart=0   wait for the Start button (or the test hook) instead of training at once
 *
 * The mode line says what runs (the mode, and for wasm its SIMD build and threads), the
 * probe's figures under auto, and, where the page is not cross-origin isolated, that the
 * wasm mode runs on one thread there.
 *
 * `window.playground` is the hook that test/browser.test.ts drives: { ready, mode, info,
 * losses, steps(n), imagesPerSecond(), trainingLoss(), start(), pause() }.
 */
import { setBackend, curvesSvg, MODES, type BackendInfo, type BackendRequest, type EpochRecord, type StepRecord } from '../../lib/browser.js';
import { Playground, parseDigits, digitImage, type Activation } from './playground.js';
import { setupModelPanel } from './model-panel.js';

const VALIDATE_EVERY = 100; // steps between two validation points on the curve
const VALIDATION_DIGITS = 500;
const REFRESH_MS = 1000; // while training, the curve and the pictures are redrawn at most this often

const params = new URLSearchParams(location.search);
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  mode: $('mode'), probe: $('probe'), isolation: $('isolation'), error: $('error'), toggle: $<HTMLButtonElement>('toggle'), stats: $('stats'), curve: $('curve'),
  filters: $<HTMLCanvasElement>('filters'), digit: $<HTMLCanvasElement>('digit'), digitLabel: $('digit-label'),
  digitSource: $('digit-source'), activations: $('activations'), pad: $<HTMLCanvasElement>('pad'), clear: $('clear'), guesses: $('guesses'),
};

function showError(e: unknown): void {
  ui.error.hidden = false;
  ui.error.textContent = e instanceof Error ? e.message : String(e);
  console.error(e);
}
window.addEventListener('error', (e) => showError(e.error ?? e.message));
window.addEventListener('unhandledrejection', (e) => showError(e.reason));

function intParam(name: string, fallback: number): number {
  const raw = params.get(name);
  if (raw === null) return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new Error(`playground: expected ?${name}= to be a positive integer, got '${raw}'`);
  return v;
}

/** A macrotask: the browser paints and handles input before the next step. */
const yieldToBrowser = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

// ---- pictures ------------------------------------------------------------------------

/** Draws a [H, W] map into an ImageData at (x, y), `colour` mapping a value to RGB. */
function paintMap(img: ImageData, x0: number, y0: number, H: number, W: number, value: (y: number, x: number) => number, colour: (v: number) => [number, number, number]): void {
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const [r, g, b] = colour(value(y, x));
      const i = ((y0 + y) * img.width + x0 + x) * 4;
      img.data[i] = r; img.data[i + 1] = g; img.data[i + 2] = b; img.data[i + 3] = 255;
    }
  }
}

/** v in [-1, 1]: blue (negative), white (0), red (positive) */
const diverging = (v: number): [number, number, number] => {
  const a = Math.round(255 * (1 - Math.min(1, Math.abs(v))));
  return v >= 0 ? [255, a, a] : [a, a, 255];
};
/** v in [0, 1]: black to white */
const gray = (v: number): [number, number, number] => {
  const a = Math.round(255 * Math.max(0, Math.min(1, v)));
  return [a, a, a];
};

/** conv1_1's filters [C, Cin, 3, 3] in a row, 1 pixel apart, scaled by the largest |weight|. */
function drawFilters(shape: number[], values: Float32Array): void {
  const [C, Cin, K] = shape;
  const canvas = ui.filters;
  canvas.width = C * (K + 1) - 1;
  canvas.height = Cin * (K + 1) - 1;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(canvas.width, canvas.height);
  img.data.fill(255);
  const max = values.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-12);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < Cin; i++) {
      paintMap(img, c * (K + 1), i * (K + 1), K, K, (y, x) => values[((c * Cin + i) * K + y) * K + x] / max, diverging);
    }
  }
  ctx.putImageData(img, 0, 0);
}

/** Each block's maps in a grid, 16 per row, scaled by the block's largest activation. */
function drawActivations(blocks: Activation[]): void {
  ui.activations.replaceChildren(...blocks.map((a) => {
    const [C, H, W] = a.shape;
    const cols = Math.min(C, 16), rows = Math.ceil(C / cols);
    const canvas = document.createElement('canvas');
    canvas.width = cols * (W + 1) - 1;
    canvas.height = rows * (H + 1) - 1;
    canvas.style.width = `${Math.min(520, canvas.width * Math.max(1, Math.floor(48 / W)))}px`;
    const ctx = canvas.getContext('2d')!;
    const img = ctx.createImageData(canvas.width, canvas.height);
    img.data.fill(255);
    const max = a.values.reduce((m, v) => Math.max(m, v), 1e-12);
    for (let c = 0; c < C; c++) {
      paintMap(img, (c % cols) * (W + 1), Math.floor(c / cols) * (H + 1), H, W, (y, x) => a.values[(c * H + y) * W + x] / max, gray);
    }
    ctx.putImageData(img, 0, 0);
    const div = document.createElement('div');
    div.className = 'block';
    const label = document.createElement('span');
    label.textContent = `${a.name}: ${C} maps of ${H}×${W}`;
    div.append(label, canvas);
    return div;
  }));
}

function drawDigit(pixels: Float32Array): void {
  const ctx = ui.digit.getContext('2d')!;
  const img = ctx.createImageData(28, 28);
  paintMap(img, 0, 0, 28, 28, (y, x) => pixels[y * 28 + x], gray);
  ctx.putImageData(img, 0, 0);
}

// ---- the drawing pad -----------------------------------------------------------------

const padCtx = ui.pad.getContext('2d', { willReadFrequently: true })!;
let drawn: Float32Array | null = null;

function clearPad(): void {
  padCtx.fillStyle = 'black';
  padCtx.fillRect(0, 0, ui.pad.width, ui.pad.height);
  drawn = null;
  ui.guesses.replaceChildren();
}

/**
 * The pad as an MNIST digit: the strokes' bounding box scaled to fit 20×20 and placed in
 * 28×28 with its centre of mass at the centre, as the MNIST digits were made. null if empty.
 */
function padDigit(): Float32Array | null {
  const { width, height } = ui.pad;
  const data = padCtx.getImageData(0, 0, width, height).data;
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[(y * width + x) * 4] > 20) {
        x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) return null;
  const w = x1 - x0 + 1, h = y1 - y0 + 1, s = 20 / Math.max(w, h);
  const small = document.createElement('canvas');
  small.width = small.height = 28;
  const ctx = small.getContext('2d', { willReadFrequently: true })!;
  ctx.imageSmoothingQuality = 'high';
  const place = (dx: number, dy: number) => {
    ctx.fillStyle = 'black';
    ctx.fillRect(0, 0, 28, 28);
    ctx.drawImage(ui.pad, x0, y0, w, h, dx, dy, w * s, h * s);
    const px = ctx.getImageData(0, 0, 28, 28).data;
    return Float32Array.from({ length: 784 }, (_, i) => px[i * 4] / 255);
  };
  let pixels = place((28 - w * s) / 2, (28 - h * s) / 2);
  let mass = 0, cx = 0, cy = 0;
  pixels.forEach((v, i) => { mass += v; cx += v * (i % 28); cy += v * Math.floor(i / 28); });
  if (mass > 0) pixels = place((28 - w * s) / 2 + Math.round(13.5 - cx / mass), (28 - h * s) / 2 + Math.round(13.5 - cy / mass));
  return pixels;
}

function enableDrawing(onStroke: () => void): void {
  let last: { x: number; y: number } | null = null;
  const at = (e: PointerEvent) => {
    const r = ui.pad.getBoundingClientRect();
    return { x: (e.clientX - r.left) * (ui.pad.width / r.width), y: (e.clientY - r.top) * (ui.pad.height / r.height) };
  };
  ui.pad.addEventListener('pointerdown', (e) => {
    ui.pad.setPointerCapture(e.pointerId);
    last = at(e);
  });
  ui.pad.addEventListener('pointermove', (e) => {
    if (!last) return;
    const p = at(e);
    padCtx.strokeStyle = 'white';
    padCtx.lineWidth = 20;
    padCtx.lineCap = padCtx.lineJoin = 'round';
    padCtx.beginPath();
    padCtx.moveTo(last.x, last.y);
    padCtx.lineTo(p.x, p.y);
    padCtx.stroke();
    last = p;
  });
  const end = () => {
    if (!last) return;
    last = null;
    drawn = padDigit();
    onStroke();
  };
  ui.pad.addEventListener('pointerup', end);
  ui.pad.addEventListener('pointercancel', end);
  ui.clear.addEventListener('click', () => {
    clearPad();
    onStroke();
  });
}

// ---- the page ------------------------------------------------------------------------

/** auto's figures, fastest first, the chosen mode in bold */
function showProbe(info: BackendInfo): void {
  if (!info.measured) return;
  const figures = Object.entries(info.measured).sort((a, b) => a[1]! - b[1]!);
  ui.probe.replaceChildren('auto measured a small convolution, forward and backward, on each mode: ', ...figures.flatMap(([mode, ms], i) => {
    const item = document.createElement(mode === info.mode ? 'strong' : 'span');
    item.textContent = `${mode} ${ms! < 10 ? ms!.toFixed(2) : ms!.toFixed(1)} ms`;
    return i ? [' · ', item] : [item];
  }));
  ui.probe.hidden = false;
}

async function main() {
  const request = (params.get('mode') ?? 'auto') as BackendRequest;
  if (request !== 'auto' && !MODES.includes(request)) {
    throw new Error(`playground: expected ?mode= to be one of auto, ${MODES.join(', ')}; got '${request}'`);
  }
  const batchSize = intParam('batch', 16);
  const limit = params.has('limit') ? intParam('limit', 0) : null;
  if (!crossOriginIsolated) ui.isolation.hidden = false;
  let info: BackendInfo;
  try {
    info = await setBackend(request);
  } catch (e) {
    ui.mode.textContent = `Cannot run on ${request}: ${(e as Error).message}`;
    throw e;
  }
  ui.mode.textContent = `Running on ${info.mode} (${info.reason}).`;
  showProbe(info);

  const response = await fetch('./mnist-digits.bin');
  if (!response.ok) throw new Error(`playground: fetching mnist-digits.bin gave HTTP ${response.status}; run npm run build first`);
  const digits = parseDigits(new Uint8Array(await response.arrayBuffer()));
  const train = limit ? digits.train.subset(`mnist (train, first ${limit})`, Int32Array.from({ length: Math.min(limit, digits.train.length) }, (_, i) => i)) : digits.train;
  const pg = new Playground(train, digits.validation, { batchSize });

  const steps: StepRecord[] = [];
  const validations: EpochRecord[] = [];
  let running = false;
  let loop: Promise<void> | null = null;
  let lastRefresh = 0, refreshCost = 0;
  let rate = { images: 0, ms: 0 };
  const epochOf = (step: number) => (step * pg.options.batchSize) / train.length;

  const showStats = () => {
    const v = validations[validations.length - 1];
    const ips = rate.ms > 0 ? ` · ${(rate.images / (rate.ms / 1000)).toFixed(1)} images/s` : '';
    ui.stats.textContent = `step ${pg.steps} · epoch ${epochOf(pg.steps).toFixed(2)} · loss ${pg.losses.length ? pg.losses[pg.losses.length - 1].toFixed(3) : '–'}${ips}` +
      (v ? ` · validation top-1 ${(v.top1 * 100).toFixed(1)}% (${VALIDATION_DIGITS} digits, step ${Math.round((v.epoch * train.length) / pg.options.batchSize)})` : '');
  };

  /** Redraws the curve, the filters, the current digit with its activations, and the guesses. */
  const refresh = async () => {
    const started = performance.now();
    showStats();
    if (steps.length) ui.curve.innerHTML = await curvesSvg(validations, steps, `VGG-A ×1/8 on MNIST, batch ${pg.options.batchSize}, lr ${pg.options.lr}, on ${info.mode}`);
    const filters = await pg.firstFilters();
    drawFilters(filters.shape, filters.values);
    const current = drawn ?? (pg.lastBatch.length ? train.get(pg.lastBatch[0]).image.data : digits.validation.get(0).image.data);
    ui.digitSource.textContent = drawn ? 'your digit' : 'the current training digit';
    ui.digitLabel.textContent = drawn ? '' : `label ${pg.lastBatch.length ? train.get(pg.lastBatch[0]).label : digits.validation.get(0).label}`;
    drawDigit(current);
    drawActivations(await pg.activations(digitImage(current)));
    if (drawn) {
      const p = await pg.predict(digitImage(drawn));
      const top = Array.from(p.keys()).sort((a, b) => p[b] - p[a]).slice(0, 3);
      ui.guesses.replaceChildren(...top.map((k) => {
        const li = document.createElement('li');
        const bar = document.createElement('span');
        bar.className = 'bar';
        bar.style.width = `${Math.round(p[k] * 160)}px`;
        li.append(`${k}: ${(p[k] * 100).toFixed(1)}%`, bar);
        return li;
      }));
    }
    lastRefresh = performance.now();
    refreshCost = lastRefresh - started;
  };

  const step = async () => {
    const t0 = performance.now();
    const loss = await pg.step();
    rate = { images: rate.images + pg.options.batchSize, ms: rate.ms + performance.now() - t0 };
    steps.push({ epoch: epochOf(pg.steps), loss });
    if (pg.steps % VALIDATE_EVERY === 0) {
      const v = await pg.evaluate(digits.validation, VALIDATION_DIGITS);
      validations.push({ epoch: epochOf(pg.steps), trainLoss: loss, validationLoss: v.loss, top1: v.top1, top5: v.top5, lr: pg.options.lr, seconds: rate.ms / 1000 });
    }
    // redraw at most once a second, and so that redrawing takes at most a fifth of the time
    if (performance.now() - lastRefresh > Math.max(REFRESH_MS, 4 * refreshCost)) await refresh();
    else showStats();
  };

  const start = () => {
    if (running) return;
    running = true;
    ui.toggle.textContent = 'Pause';
    loop = (async () => {
      try {
        while (running) {
          await step();
          await yieldToBrowser();
        }
      } catch (e) {
        running = false;
        showError(e);
      }
      ui.toggle.textContent = 'Start';
    })();
  };
  const pause = async () => {
    running = false;
    await loop;
  };

  ui.toggle.disabled = false;
  ui.toggle.addEventListener('click', () => (running ? pause() : start()));
  clearPad();
  // issue #17: a CLI-trained model.safetensors, loaded in the page, classifies the pad's digit too
  const models = setupModelPanel({ root: $('model-panel'), digit: () => drawn });
  enableDrawing(() => {
    void refresh();
    void models.update();
  });
  await refresh();

  const hook = {
    mode: info.mode,
    info,
    losses: pg.losses,
    /** pauses the loop, runs n steps (yielding between them), redraws; resolves with their losses */
    async steps(n: number): Promise<number[]> {
      await pause();
      for (let i = 0; i < n; i++) {
        await step();
        await yieldToBrowser();
      }
      await refresh();
      return pg.losses.slice(-n);
    },
    /** images per second of SGD steps since the page started (the figure the stats line shows) */
    imagesPerSecond: () => (rate.ms > 0 ? rate.images / (rate.ms / 1000) : 0),
    /** the mean loss over the training digits in use, in eval mode */
    trainingLoss: async () => (await pg.evaluate(train)).loss,
    start,
    pause,
  };
  if (params.get('autostart') !== '0') start();
  return hook;
}

const playground: Record<string, unknown> = {};
(window as unknown as { playground: unknown }).playground = playground;
/** resolves to true once the hook is complete; rejects with the error the page shows */
playground.ready = main().then((hook) => {
  Object.assign(playground, hook);
  return true;
}, (e) => {
  showError(e);
  throw e;
});
