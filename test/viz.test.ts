/**
 * lib/viz/: image grids on known pixels (layout, scaling, the value ranges, grey and RGB),
 * PNG encoding read back by sharp, captions in the SVG grid, and a vega-lite chart as SVG.
 */
import test from 'tape';
import ndarray from 'ndarray';
import * as viz from '../lib/viz/index.js';
import { loadSharp, type Image } from '../lib/data/index.js';
import { throwsNamed } from './helpers.js';
import { ShapeError, ValueError } from '../lib/core/errors.js';

const image = (values: number[], shape: [number, number, number]): Image => ndarray(Float32Array.from(values), shape);

export function registerVizTests(): void {
  test('viz.imageGrid: layout, nearest-neighbour scaling and the value ranges on known pixels', (t) => {
    const a = image([0, 1, 2, 3], [1, 2, 2]);
    const b = image([-1, 1, 0, 0], [1, 2, 2]);
    const r = viz.imageGrid([a, b], { columns: 2, scale: 2, gap: 1, background: 7 });
    t.deepEqual([r.width, r.height, r.channels], [1 + 2 * (4 + 1), 1 + (4 + 1), 1], '2 tiles of 2×2 at scale 2 with 1-pixel gaps: 11×6, grey');
    const px = (x: number, y: number) => r.pixels[y * r.width + x];
    t.deepEqual([px(0, 0), px(5, 3), px(10, 5)], [7, 7, 7], 'the gaps have the background byte');
    t.deepEqual([px(1, 1), px(2, 2), px(3, 1), px(4, 2), px(1, 3), px(3, 4)], [0, 0, 85, 85, 170, 255], "'each': tile a's 0..3 spans 0..255, each pixel a 2×2 block");
    t.deepEqual([px(6, 1), px(8, 1), px(6, 3)], [0, 255, 128], "'each': tile b's −1..1 spans 0..255 on its own");
    const all = viz.imageGrid([a, b], { columns: 2, range: 'all', gap: 0 });
    t.deepEqual(Array.from(all.pixels), [64, 128, 0, 128, 191, 255, 64, 64], "'all': one range −1..3 for both tiles");
    const fixed = viz.imageGrid([image([-0.5, 0.5, 1, 2], [1, 2, 2])], { range: [0, 1], gap: 0 });
    t.deepEqual(Array.from(fixed.pixels), [0, 128, 255, 255], 'a fixed range [0, 1] clamps what lies outside it');
    const sym = viz.imageGrid([image([-2, 1, 0, 0], [1, 2, 2])], { range: 'symmetric', gap: 0 });
    t.deepEqual(Array.from(sym.pixels), [0, 191, 128, 128], "'symmetric': 0 is mid-grey, ±max|v| the ends");
    const flat = viz.imageGrid([image([5, 5, 5, 5], [1, 2, 2])], { gap: 0 });
    t.deepEqual(Array.from(flat.pixels), [0, 0, 0, 0], 'a constant tile is black, not NaN');
    t.end();
  });

  test('viz.imageGrid: rows, RGB tiles, mixed sizes, captions room, and errors', (t) => {
    const grey = image([0, 1], [1, 1, 2]);
    const rgb = image([1, 0, 0, 0, 0, 0], [3, 1, 2]); // red, then black
    const r = viz.imageGrid([grey, rgb, grey], { columns: 2, gap: 0, range: [0, 1], captionHeight: 1 });
    t.deepEqual([r.width, r.height, r.channels], [4, 4, 3], 'three tiles in two rows of 2 columns, RGB when one tile is RGB, a caption row under each');
    const px = (x: number, y: number) => Array.from(r.pixels.subarray((y * r.width + x) * 3, (y * r.width + x) * 3 + 3));
    t.deepEqual([px(0, 0), px(1, 0), px(2, 0), px(3, 0)], [[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 0, 0]], 'a grey tile is written to all three channels; the RGB tile keeps its colours');
    t.deepEqual(px(0, 1), [255, 255, 255], 'the caption row is background');
    t.deepEqual([px(0, 2), px(1, 2), px(2, 2)], [[0, 0, 0], [255, 255, 255], [255, 255, 255]], 'the third tile starts the second row; the empty cell is background');
    const sizes = viz.imageGrid([image([1], [1, 1, 1]), image([1, 1, 1, 1], [1, 2, 2])], { gap: 0, columns: 2 });
    t.deepEqual([sizes.width, sizes.height], [4, 2], 'tiles of different sizes get cells of the largest size');
    throwsNamed(t, () => viz.imageGrid([]), ValueError, [/at least one image/], 'no images');
    throwsNamed(t, () => viz.imageGrid([image([0, 0], [2, 1, 1])]), ShapeError, [/image 0 has 2 channels/, /channelsOf/], 'two channels');
    throwsNamed(t, () => viz.imageGrid([grey], { scale: 0 }), ValueError, [/scale/, /at least 1/], 'scale 0');
    t.end();
  });

  test('viz.imagesOf / channelsOf split a batch and an image into views', (t) => {
    const values = Float32Array.from({ length: 2 * 3 * 2 * 2 }, (_, i) => i);
    const imgs = viz.imagesOf(values, [2, 3, 2, 2]);
    t.deepEqual([imgs.length, ...imgs[1].shape], [2, 3, 2, 2], 'two images [3, 2, 2]');
    t.equal(imgs[1].get(2, 1, 0), 22, 'image 1, channel 2, (1, 0) is element ((1·3 + 2)·2 + 1)·2 + 0');
    const planes = viz.channelsOf(imgs[1]);
    t.deepEqual([planes.length, ...planes[2].shape, planes[2].get(0, 1, 1)], [3, 1, 2, 2, 23], 'three grey images [1, 2, 2] that view the same values');
    throwsNamed(t, () => viz.imagesOf(values, [2, 3, 2]), ShapeError, [/\[N, C, H, W\]/], 'a 3-D shape');
    t.end();
  });

  test('viz.imageGridPng / imageGridSvg: PNG that sharp reads back, captions escaped; viz.chartSvg', async (t) => {
    const digit = image(Array.from({ length: 16 }, (_, i) => i / 15), [1, 4, 4]);
    let sharpLoads = true;
    try {
      await loadSharp();
    } catch {
      sharpLoads = false;
    }
    if (sharpLoads) {
      const png = await viz.imageGridPng([digit, digit], { columns: 2, scale: 3, gap: 2 });
      t.deepEqual(Array.from(png.subarray(0, 8)), [137, 80, 78, 71, 13, 10, 26, 10], 'the PNG signature');
      const sharp = await loadSharp();
      const back = await sharp(png).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
      t.deepEqual([back.info.width, back.info.height, back.info.channels], [2 + 2 * (12 + 2), 2 + 12 + 2, 1], 'decoded as grey: 30×16, one channel');
      t.deepEqual(Array.from(back.data.subarray(2 * 30 + 2, 2 * 30 + 14)), [0, 0, 0, 17, 17, 17, 34, 34, 34, 51, 51, 51], 'the first row of pixels survives the round trip');
      const svg = await viz.imageGridSvg([digit, digit], { columns: 2, captions: ['3 → 5', '<7>'] });
      t.ok(svg.startsWith('<svg') && svg.includes('data:image/png;base64,'), 'an SVG with the grid as an embedded PNG');
      t.ok(svg.includes('>3 → 5</text>') && svg.includes('&#60;7&#62;'), 'the captions, with < and > escaped');
    } else {
      t.comment('skipped: sharp does not load here, so no PNG can be encoded');
    }
    const chart = await viz.chartSvg({ data: { values: [{ x: 1, y: 2 }, { x: 2, y: 3 }] }, mark: 'line', encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } });
    t.ok(chart.startsWith('<svg') && chart.includes('</svg>'), `viz.chartSvg renders a vega-lite spec to SVG (${chart.length} characters)`);
  });
}
