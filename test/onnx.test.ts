/** ONNX export and import, checked by onnxruntime-node (filled in by the ONNX work). */
export function registerOnnxTests(): void {}
