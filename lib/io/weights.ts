/**
 * io.loadWeights: a VGG built from a weights file on disk (Node). What the file must hold and
 * how the model is read off it is lib/io/weights-bytes.ts's (no Node module there: the
 * browser bundle's io.loadWeightsFromBytes is the same code on a fetched file's bytes).
 */
import { readBytes } from './safetensors.js';
import { parseSafetensors } from './safetensors-bytes.js';
import { checkWeightsOptions, weightsFromParsed, type LoadedWeights, type WeightsOptions } from './weights-bytes.js';

export { PREPROCESSING_PRESETS, vggFromTorchvisionShapes, loadWeightsFromBytes } from './weights-bytes.js';
export type { WeightsOptions, LoadedWeights, BytesWeightsOptions } from './weights-bytes.js';

const WHERE = 'io.loadWeights';

/**
 * A VGG built as the weights file says (the options override) with its weights loaded,
 * the preprocessing they expect: the option's, else the file's, else torchvision's
 * (with a note), and the file's class names if it has them. A file that is damaged, states
 * a model badly, does not hold the model it states, or whose class names are not one
 * string per class, is a WeightsError, thrown before the model is built.
 */
export async function loadWeights(path: string, o: WeightsOptions = {}): Promise<LoadedWeights> {
  checkWeightsOptions(o, WHERE);
  return weightsFromParsed(parseSafetensors(await readBytes(path, WHERE), path, WHERE), path, o, WHERE);
}
