export * from './transforms.js';
export { ArrayDataset, mnist, fashionMnist, readIdx, permutation, FASHION_MNIST_DIR, FASHION_MNIST_CLASSES, MNIST_VALIDATION_SIZE } from './datasets.js';
export type { Dataset, Sample } from './datasets.js';
export { DataLoader } from './loader.js';
export type { LoaderOptions, Batch } from './loader.js';
export { decodeImage, imageFolder, ImageFolder, loadSharp, scalableImage, ScalableImageFile, IMAGE_EXTENSIONS } from './images.js';
export type { DecodeOptions, ImageFolderOptions, ImageSample, ScalableImageOptions, Sharp, SharpPipeline } from './images.js';
export { applyPreprocessing, checkPreprocessing, TORCHVISION_PREPROCESSING, CAFFE_VGG_PREPROCESSING } from './preprocess.js';
export type { Preprocessing } from './preprocess.js';
