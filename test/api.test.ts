/** The user-level API: model.predict, fit's callbacks and AbortSignal (filled in by that work). */
export function registerApiTests(): void {}
