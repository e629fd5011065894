/** The package as a user installs it: npm pack, then npm install of the tarball in an empty folder (filled in by the packaging work). */
export function registerPackageTests(): void {}
