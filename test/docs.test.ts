/** The API reference: typedoc over the package's entry, every export documented (filled in by that work). */
export function registerDocsTests(): void {}
