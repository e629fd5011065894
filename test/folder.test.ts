/** Training on an image folder (filled in by that work). */
export function registerFolderTests(): void {}
