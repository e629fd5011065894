/**
 * The playground's "Your own model" panel (issue #17): a `model.safetensors` written by
 * `verydeep train ... --out DIR` (or io.saveSafetensors), taken from a file picker, a URL
 * field or `?model=<url>`, built in the page by io.loadWeightsFromBytes (the same checks as
 * Node's io.loadWeights, no Node module), and asked for its three best guesses for the digit
 * drawn on the pad, with the class names of the file ('classes' metadata), else of a
 * labels.txt (picked with it, or beside the URL: the CLI writes one), else "class k".
 *
 * The digit (28×28, white on black, in [0, 1], as main.ts's pad makes it) reaches the net
 * as the CLI's MNIST runs prepare theirs: zero-padded to the net's input size (or resized,
 * for a net whose input is not between 28 and 55 pixels), then the file's preprocessing
 * (channel order, range, mean, std: data.applyPreprocessing). digitInput is that step alone,
 * so that the browser suite computes Node's prediction from the same input.
 *
 * Tensors made here are taken out of any tidy() scope open at the time (keep): the
 * playground's training step is an async tidy, and a tensor made while it awaits would be
 * counted as the step's and disposed at its end (lib/core/tensor.ts).
 *
 * `window.modelPanel` is the hook test/browser-site.test.ts drives: { ready, info, load(url),
 * classify(pixels), last }.
 */
import ndarray from 'ndarray';
import { applyPreprocessing, keep, transforms, io, type Preprocessing, type Vgg } from '../../lib/browser.js';

/** Up to this input size a 28×28 digit is zero-padded (as `verydeep train --data mnist` pads to 32); beyond it, resized. */
const PAD_UP_TO = 55;

/** What the panel shows of a loaded model. */
export interface LoadedInfo {
  /** where it came from: the file's name or the URL */
  source: string;
  bytes: number;
  /** the model, as Vgg.describe() says it */
  model: string;
  parameters: number;
  config: string;
  inputSize: number;
  inputChannels: number;
  preprocessing: Preprocessing;
  classes: string[];
  /** where the class names came from */
  classesFrom: string;
  /** how the digit is made the net's input */
  inputNote: string;
  milliseconds: number;
}

/** One guess: a class, its name and its posterior. */
export interface Guess {
  index: number;
  name: string;
  probability: number;
}

/**
 * A drawn digit (784 values in [0, 1], row-major 28×28) as `model`'s input [C, S, S]: padded
 * to S (or resized when S is outside 28..55), grey copied to RGB, then the file's
 * preprocessing. A ShapeError where the preprocessing's channels are not the model's.
 */
export function digitInput(pixels: ArrayLike<number>, model: Vgg, preprocessing: Preprocessing): transforms.Image {
  if (pixels.length !== 784) throw new Error(`digitInput: expected 784 pixels (28×28), got ${pixels.length}`);
  const S = model.options.inputSize;
  const grey = ndarray(Float32Array.from(pixels), [1, 28, 28]);
  const sized = S >= 28 && S <= PAD_UP_TO ? transforms.pad(grey, S) : transforms.resize(grey, S, S);
  const rgb = ndarray(new Float32Array(3 * S * S), [3, S, S]);
  for (let c = 0; c < 3; c++) rgb.data.set(sized.data.subarray(0, S * S), c * S * S);
  const input = applyPreprocessing(rgb, preprocessing);
  const channels = model.options.inputChannels;
  if (input.shape[0] !== channels) {
    throw new Error(`model panel: the file's preprocessing (${preprocessing.channelOrder}) gives ${input.shape[0]} channels, but ${model.describe()} takes ${channels}`);
  }
  return input;
}

/** A labels.txt's class names: one a line, trailing blank lines dropped. */
export function parseLabels(text: string): string[] {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

const describePreprocessing = (p: Preprocessing) =>
  `${p.channelOrder}, ${p.range}, mean [${p.mean.map((m) => +m.toFixed(4)).join(', ')}], std [${p.std.map((s) => +s.toFixed(4)).join(', ')}]`;

/** The options of setupModelPanel. */
export interface PanelOptions {
  /** the section to fill (#model-panel) */
  root: HTMLElement;
  /** the digit on the pad now (784 values in [0, 1]), or null when it is empty */
  digit: () => Float32Array | null;
}

/** The panel: fills `root`, loads `?model=` if given; call classify() when the pad changes. */
export function setupModelPanel({ root, digit }: PanelOptions) {
  root.innerHTML = `
    <h2>Your own model</h2>
    <p class="note">A <code>model.safetensors</code> written by <code>verydeep train … --out DIR</code> (with its
      <code>labels.txt</code>, optional), from your disk or a URL (<code>?model=URL</code> loads one with the page).
      It runs here, in this tab, on the playground's mode; it classifies the digit on the pad.</p>
    <p class="mp-row"><label>File: <input type="file" id="model-file" accept=".safetensors,.txt" multiple></label></p>
    <p class="mp-row"><input type="url" id="model-url" placeholder="https://…/model.safetensors" size="36"> <button id="model-load">Load</button></p>
    <p id="model-status" class="note"></p>
    <p id="model-error" class="error" hidden></p>
    <dl id="model-info" hidden></dl>
    <h3 id="model-guesses-title" hidden>Its three best guesses for the digit on the pad</h3>
    <ol id="model-guesses"></ol>`;
  const $ = <T extends HTMLElement>(id: string) => root.querySelector<T>(`#${id}`)!;
  const ui = {
    file: $<HTMLInputElement>('model-file'), url: $<HTMLInputElement>('model-url'), load: $<HTMLButtonElement>('model-load'),
    status: $('model-status'), error: $('model-error'), info: $('model-info'), guessesTitle: $('model-guesses-title'), guesses: $('model-guesses'),
  };

  let current: { model: Vgg; preprocessing: Preprocessing; classes: string[]; info: LoadedInfo } | null = null;
  let last: { pixels: number[]; guesses: Guess[]; probabilities: number[] } | null = null;
  let queue: Promise<unknown> = Promise.resolve();
  /** one load or guess at a time, in call order */
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work);
    queue = run.catch(() => undefined);
    return run;
  };

  const fail = (e: unknown) => {
    ui.error.hidden = false;
    ui.error.textContent = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    ui.status.textContent = '';
    console.warn(e);
  };

  /** Builds the net from the bytes; `labels` is a labels.txt's text, if any. */
  const install = (bytes: Uint8Array, source: string, labels: { text: string; from: string } | null, started: number) => {
    const loaded = io.loadWeightsFromBytes(bytes, { name: source, note: () => undefined });
    for (const p of loaded.model.parameters()) keep(p);
    const model = loaded.model;
    const K = model.options.numClasses;
    let classes: string[], classesFrom: string;
    const fromLabels = labels ? parseLabels(labels.text) : null;
    if (loaded.classes) [classes, classesFrom] = [loaded.classes, "the file's 'classes' metadata"];
    else if (fromLabels && fromLabels.length === K) [classes, classesFrom] = [fromLabels, labels!.from];
    else {
      classes = Array.from({ length: K }, (_, k) => `class ${k}`);
      classesFrom = fromLabels ? `none: ${labels!.from} has ${fromLabels.length} lines for ${K} classes` : 'none in the file, and no labels.txt';
    }
    const S = model.options.inputSize;
    const preprocessing = loaded.preprocessing;
    const info: LoadedInfo = {
      source, bytes: bytes.length, model: model.describe(), parameters: model.parameterCount(), config: model.config,
      inputSize: S, inputChannels: model.options.inputChannels, preprocessing, classes, classesFrom,
      inputNote: S >= 28 && S <= PAD_UP_TO ? `the 28×28 digit zero-padded to ${S}×${S}` : `the 28×28 digit resized to ${S}×${S}`,
      milliseconds: Math.round(performance.now() - started),
    };
    current?.model.dispose();
    current = { model, preprocessing, classes, info };
    ui.error.hidden = true;
    ui.status.textContent = `Loaded ${source} (${(bytes.length / 1024).toFixed(0)} KiB) in ${info.milliseconds} ms.`;
    const rows: [string, string][] = [
      ['model', info.model], ['parameters', info.parameters.toLocaleString('en-US')],
      ['input', `${info.inputChannels}×${S}×${S}: ${info.inputNote}`], ['preprocessing', describePreprocessing(preprocessing)],
      ['classes', `${classes.length}: ${classes.slice(0, 10).join(', ')}${classes.length > 10 ? ', …' : ''} (from ${classesFrom})`],
    ];
    ui.info.replaceChildren(...rows.flatMap(([k, v]) => {
      const dt = document.createElement('dt');
      const dd = document.createElement('dd');
      dt.textContent = k;
      dd.textContent = v;
      return [dt, dd];
    }));
    ui.info.hidden = false;
    return info;
  };

  /** Loads a model.safetensors from a URL, and labels.txt beside it when the file names no classes (a missing one is fine). */
  const loadUrl = (url: string) => exclusive(async () => {
    const started = performance.now();
    ui.status.textContent = `Fetching ${url}…`;
    let response: Response;
    try {
      response = await fetch(url);
    } catch (e) {
      throw new Error(`fetching ${url} failed (${(e as Error).message}); a URL on another site must allow it (CORS, and Cross-Origin-Resource-Policy under this page's isolation)`);
    }
    if (!response.ok) throw new Error(`fetching ${url} gave HTTP ${response.status}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    let labels: { text: string; from: string } | null = null;
    let named = false;
    try {
      named = io.parseSafetensorsHeader(bytes, url).metadata.classes !== undefined;
    } catch { /* a damaged file: loadWeightsFromBytes below says what is wrong with it */ }
    if (!named) {
      const labelsUrl = new URL('labels.txt', new URL(url, location.href)).href;
      const r = await fetch(labelsUrl).catch(() => null);
      if (r?.ok) labels = { text: await r.text(), from: labelsUrl };
    }
    return install(bytes, url, labels, started);
  });

  /** Loads the picked files: one .safetensors, and a .txt of class names if picked with it. */
  const loadFiles = (files: File[]) => exclusive(async () => {
    const started = performance.now();
    const weights = files.filter((f) => !f.name.endsWith('.txt'));
    const text = files.find((f) => f.name.endsWith('.txt'));
    if (weights.length !== 1) throw new Error(`expected one .safetensors file (and, if you like, its labels.txt); got ${files.map((f) => f.name).join(', ') || 'nothing'}`);
    const bytes = new Uint8Array(await weights[0].arrayBuffer());
    const labels = text ? { text: await text.text(), from: text.name } : null;
    return install(bytes, weights[0].name, labels, started);
  });

  /** The loaded net's posteriors for a digit, and its top three. */
  const guess = (pixels: ArrayLike<number>) => exclusive(async () => {
    if (!current) return null;
    const { model, preprocessing, classes } = current;
    const probs = keep(model.predict(digitInput(pixels, model, preprocessing)));
    let p: Float32Array;
    try {
      p = await probs.data();
    } finally {
      probs.dispose();
    }
    const guesses = Array.from(p.keys()).sort((a, b) => p[b] - p[a]).slice(0, 3).map((k) => ({ index: k, name: classes[k], probability: p[k] }));
    last = { pixels: Array.from(pixels), guesses, probabilities: Array.from(p) };
    return last;
  });

  /** Shows the loaded net's guesses for the digit on the pad (clears them when the pad is empty). */
  const classify = async () => {
    const d = digit();
    if (!current || !d) {
      ui.guesses.replaceChildren();
      ui.guessesTitle.hidden = true;
      return null;
    }
    const r = await guess(d);
    if (!r) return null;
    ui.guessesTitle.hidden = false;
    ui.guesses.replaceChildren(...r.guesses.map((g) => {
      const li = document.createElement('li');
      const bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.width = `${Math.round(g.probability * 160)}px`;
      li.append(`${g.name}: ${(g.probability * 100).toFixed(1)}%`, bar);
      return li;
    }));
    return r;
  };

  const after = (p: Promise<unknown>) => p.then(() => classify()).catch(fail);
  ui.file.addEventListener('change', () => void after(loadFiles(Array.from(ui.file.files ?? []))));
  ui.load.addEventListener('click', () => void after(loadUrl(ui.url.value.trim())));
  const fromQuery = new URLSearchParams(location.search).get('model');
  if (fromQuery) ui.url.value = fromQuery;
  const ready = fromQuery ? after(loadUrl(fromQuery)) : Promise.resolve();

  const panel = {
    /** resolves when the ?model= URL (if any) is loaded, or has failed (then the panel shows why) */
    ready,
    /** what was loaded, or null */
    get info() {
      return current?.info ?? null;
    },
    /** the last guesses made, with the pixels they were made for */
    get last() {
      return last;
    },
    /** loads a URL as the Load button does; rejects with the error the panel shows */
    load: (url: string) => loadUrl(url).then(async (info) => {
      await classify();
      return info;
    }, (e) => {
      fail(e);
      throw e;
    }),
    /** the loaded net's guesses for 784 pixels in [0, 1] (not shown on the page) */
    classify: (pixels: number[]) => guess(pixels),
    /** redraws the guesses for the digit on the pad (main.ts calls it after each stroke) */
    update: () => classify().catch(fail),
  };
  (window as unknown as { modelPanel: unknown }).modelPanel = panel;
  return panel;
}
