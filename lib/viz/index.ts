/**
 * Pictures for people, in Node, with no browser or canvas: charts (vega-lite specs rendered
 * to SVG by vega) and grids of images (digits, first-layer filters, feature maps) as PNG
 * (encoded by sharp), or as SVG with a caption under each image. The training curves
 * (lib/train/curves.ts) and the notebooks (notebooks/) draw with these.
 *
 * Images are [C, H, W] float ndarrays (lib/data's Image), C = 1 (grey) or 3 (RGB). Their
 * values become bytes by a linear map from a range [lo, hi] to [0, 255], clamped:
 *   'each'      the tile's own min and max (the default: filters and feature maps differ in scale);
 *   'all'       the min and max over every tile (to compare magnitudes across tiles);
 *   'symmetric' [−m, m], m = the tile's largest |value|, so that 0 is mid-grey (signed filters);
 *   [lo, hi]    a fixed range, e.g. [0, 1] for pixels.
 */
import ndarray from 'ndarray';
import type { Image } from '../data/transforms.js';
import { loadSharp } from '../data/sharp.js';
import { ShapeError, ValueError, describeValue } from '../core/errors.js';
import { isNdarray } from '../core/values.js';

/**
 * vega and vega-lite, loaded on first use: vega's canvas probe awaits at its top level, and
 * a module graph with a top-level await cannot be require()d, which is how CommonJS hosts
 * such as Jupyter's tslab kernel load verydeep (require of an ES module, Node ≥ 20.19).
 */
async function loadVega(): Promise<{ vega: typeof import('vega'); vegaLite: typeof import('vega-lite') }> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  return { vega, vegaLite };
}

/** A vega-lite spec (https://vega.github.io/vega-lite/) rendered to an SVG string. */
export async function chartSvg(spec: Record<string, unknown>): Promise<string> {
  const { vega, vegaLite } = await loadVega();
  const compiled = vegaLite.compile({ background: 'white', ...spec } as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * How a grid maps values to bytes: 'each' tile stretched to [0, 255] alone, 'all' tiles on one
 * scale, 'symmetric' with 0 at mid-grey, or a fixed [low, high].
 */
export type ValueRange = 'each' | 'all' | 'symmetric' | readonly [number, number];

/** The layout of a grid of tiles (filters, feature maps, images); each option left out takes its default. */
export interface GridOptions {
  /** tiles per row (default: ⌈√n⌉) */
  columns?: number;
  /** each pixel drawn as a scale×scale block (nearest neighbour; default 1) */
  scale?: number;
  /** pixels between tiles and around the grid (default 1) */
  gap?: number;
  /** how values map to bytes (default 'each'; see the header) */
  range?: ValueRange;
  /** the byte of the gaps (default 255, white) */
  background?: number;
  /** empty rows of pixels under each tile, for a caption (default 0) */
  captionHeight?: number;
}

/** Pixels as bytes, interleaved: pixels[(y·width + x)·channels + c]. */
export interface Raster {
  /** in pixels */
  width: number;
  /** in pixels */
  height: number;
  /** 1 (grey) or 3 (RGB) */
  channels: 1 | 3;
  /** width·height·channels bytes, row by row */
  pixels: Uint8Array;
}

/** The images of a batch [N, C, H, W] (row-major values, e.g. `await t.data()`), as N views [C, H, W]. */
export function imagesOf(values: Float32Array, shape: readonly number[]): Image[] {
  if (!(values instanceof Float32Array)) throw new ValueError(`viz.imagesOf: expected values as a Float32Array (await tensor.data()), got ${describeValue(values)}`);
  if (!Array.isArray(shape)) throw new ValueError(`viz.imagesOf: expected a shape [N, C, H, W], got ${describeValue(shape)}`);
  if (shape.length !== 4 || values.length !== shape[0] * shape[1] * shape[2] * shape[3]) {
    throw new ShapeError(`viz.imagesOf: expected values of shape [N, C, H, W], got ${values.length} values for [${shape.join(', ')}]`);
  }
  const [N, C, H, W] = shape;
  const batch = ndarray(values, [N, C, H, W]);
  return Array.from({ length: N }, (_, n) => batch.pick(n, null, null, null) as Image);
}

/** Each channel of an image [C, H, W] as a grey image [1, H, W] (feature maps, filters of a multi-channel input). */
export function channelsOf(img: Image): Image[] {
  const [C, H, W] = checkImage('viz.channelsOf', img, 0);
  return Array.from({ length: C }, (_, c) => img.lo(c, 0, 0).hi(1, H, W) as Image);
}

function checkImage(where: string, img: Image, i: number): [number, number, number] {
  if (!isNdarray(img)) throw new ValueError(`${where}: image ${i} is not an ndarray [C, H, W]: got ${describeValue(img)}`);
  if (img.shape.length !== 3) throw new ShapeError(`${where}: image ${i} is not an ndarray [C, H, W] (shape [${img.shape.join(', ')}])`);
  return img.shape as [number, number, number];
}

function extent(img: Image): [number, number] {
  let lo = Infinity, hi = -Infinity;
  const [C, H, W] = img.shape;
  for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const v = img.get(c, y, x);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** Tiles images into one raster, row by row (see GridOptions). Tiles of different sizes get the largest cell. */
export function imageGrid(images: readonly Image[], options: GridOptions = {}): Raster {
  if (!Array.isArray(images) || images.length === 0) throw new ValueError(`viz.imageGrid: expected at least one image (an array of ndarrays [C, H, W]), got ${Array.isArray(images) ? 'an empty array' : describeValue(images)}`);
  if (options === null || typeof options !== 'object') throw new ValueError(`viz.imageGrid: expected options { columns, scale, gap, range, background, captionHeight }, got ${describeValue(options)}`);
  const shapes = images.map((img, i) => checkImage('viz.imageGrid', img, i));
  for (const [i, [C]] of shapes.entries()) if (C !== 1 && C !== 3) throw new ShapeError(`viz.imageGrid: image ${i} has ${C} channels; expected 1 (grey) or 3 (RGB); viz.channelsOf splits it`);
  const { columns = Math.ceil(Math.sqrt(images.length)), scale = 1, gap = 1, range = 'each', background = 255, captionHeight = 0 } = options;
  for (const [name, v, least] of [['columns', columns, 1], ['scale', scale, 1], ['gap', gap, 0], ['captionHeight', captionHeight, 0]] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < least) throw new ValueError(`viz.imageGrid: expected ${name} to be an integer of at least ${least}, got ${describeValue(v)}`);
  }
  if (typeof background !== 'number' || !Number.isInteger(background) || background < 0 || background > 255) {
    throw new ValueError(`viz.imageGrid: expected background to be a byte (an integer in [0, 255]), got ${describeValue(background)}`);
  }
  // an unknown name would be drawn as 'each'; lo >= hi as black tiles
  const fixed = Array.isArray(range) && range.length === 2 && range.every((v) => typeof v === 'number' && Number.isFinite(v)) && range[0] < range[1];
  if (!fixed && range !== 'each' && range !== 'all' && range !== 'symmetric') {
    throw new ValueError(`viz.imageGrid: expected range 'each', 'all', 'symmetric' or [lo, hi] with lo < hi, got ${Array.isArray(range) ? `[${range.join(', ')}]` : describeValue(range)}`);
  }
  const channels: 1 | 3 = shapes.some(([C]) => C === 3) ? 3 : 1;
  const cellH = Math.max(...shapes.map(([, H]) => H)) * scale + captionHeight;
  const cellW = Math.max(...shapes.map(([, , W]) => W)) * scale;
  const rows = Math.ceil(images.length / columns);
  const cols = Math.min(columns, images.length);
  const width = gap + cols * (cellW + gap), height = gap + rows * (cellH + gap);
  const pixels = new Uint8Array(width * height * channels).fill(background);
  const all = range === 'all' ? images.map(extent).reduce(([a, b], [c, d]) => [Math.min(a, c), Math.max(b, d)]) : null;
  images.forEach((img, i) => {
    const [C, H, W] = shapes[i];
    let [lo, hi] = Array.isArray(range) ? range : all ?? extent(img);
    if (range === 'symmetric') {
      const m = Math.max(Math.abs(lo), Math.abs(hi));
      [lo, hi] = [-m, m];
    }
    const k = hi > lo ? 255 / (hi - lo) : 0; // a constant tile is drawn as lo, black
    const top = gap + Math.floor(i / columns) * (cellH + gap), left = gap + (i % columns) * (cellW + gap);
    for (let y = 0; y < H * scale; y++) {
      for (let x = 0; x < W * scale; x++) {
        const at = ((top + y) * width + left + x) * channels;
        for (let c = 0; c < channels; c++) {
          const v = img.get(C === 1 ? 0 : c, Math.floor(y / scale), Math.floor(x / scale));
          pixels[at + c] = Math.round(Math.min(255, Math.max(0, (v - lo) * k)));
        }
      }
    }
  });
  return { width, height, channels, pixels };
}

/** A raster encoded as PNG (by sharp, an optional dependency: the error says how to install it). */
export async function pngOf(raster: Raster): Promise<Uint8Array> {
  const sharp = await loadSharp();
  const raw = sharp(raster.pixels, { raw: { width: raster.width, height: raster.height, channels: raster.channels } });
  // sharp writes sRGB unless told that one channel is grey
  const { data } = await (raster.channels === 1 ? raw.toColourspace('b-w') : raw).png().toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** imageGrid, as PNG bytes (for tslab.display.png, or a file). */
export async function imageGridPng(images: readonly Image[], options: GridOptions = {}): Promise<Uint8Array> {
  return pngOf(imageGrid(images, options));
}

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** imageGrid as an SVG string: the PNG grid, with captions[i] written under image i. */
export async function imageGridSvg(images: readonly Image[], options: GridOptions & { captions?: readonly string[]; fontSize?: number } = {}): Promise<string> {
  if (options === null || typeof options !== 'object') throw new ValueError(`viz.imageGridSvg: expected options { captions, fontSize, ...GridOptions }, got ${describeValue(options)}`);
  const { captions = [], fontSize = 11, ...grid } = options;
  if (!Array.isArray(captions) || !captions.every((c) => typeof c === 'string')) throw new ValueError(`viz.imageGridSvg: expected captions to be an array of strings, got ${describeValue(captions)}`);
  if (typeof fontSize !== 'number' || !(fontSize > 0) || !Number.isFinite(fontSize)) throw new ValueError(`viz.imageGridSvg: expected fontSize to be a finite number > 0, got ${describeValue(fontSize)}`);
  if (captions.length > images.length) throw new ValueError(`viz.imageGridSvg: ${captions.length} captions for ${images.length} images`);
  const captionHeight = grid.captionHeight ?? (captions.length ? Math.ceil(fontSize * 1.5) : 0);
  const raster = imageGrid(images, { ...grid, captionHeight });
  const png = Buffer.from(await pngOf(raster)).toString('base64');
  const { columns = Math.ceil(Math.sqrt(images.length)), gap = 1 } = grid;
  const cellW = (raster.width - gap) / Math.min(columns, images.length) - gap;
  const rows = Math.ceil(images.length / columns);
  const cellH = (raster.height - gap) / rows - gap;
  const texts = captions.map((text, i) => {
    const x = gap + (i % columns) * (cellW + gap) + cellW / 2;
    const y = gap + Math.floor(i / columns) * (cellH + gap) + cellH - captionHeight / 2;
    return `<text x="${x}" y="${y}" font-family="sans-serif" font-size="${fontSize}" text-anchor="middle" dominant-baseline="central">${escapeXml(text)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${raster.width}" height="${raster.height}" viewBox="0 0 ${raster.width} ${raster.height}">` +
    `<image width="${raster.width}" height="${raster.height}" style="image-rendering:pixelated" href="data:image/png;base64,${png}"/>${texts.join('')}</svg>`;
}
