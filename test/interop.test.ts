/** torchvision at full size and ONNX from torch, checked by Debian's python3-torch (filled in by the interop work). */
export function registerInteropTests(): void {}
