/** Pretrained torchvision weights: the conversion script, class names and antialiased downscaling (filled in by that work). */
export function registerPretrainedTests(): void {}
