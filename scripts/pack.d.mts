/** Builds and packs every package into `outDir`; returns package name -> absolute tarball path. */
export function packAll(outDir: string): Record<string, string>;
