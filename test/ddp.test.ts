/** examples/pytorch-ddp run for real (filled in by the DDP work). */
export function registerDdpTests(): void {}
