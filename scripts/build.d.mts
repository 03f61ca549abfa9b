/** Workspace packages in dependency order. */
export const packageDirs: string[];
/** Builds one package (tsc, then `.d.ts` specifiers rewritten to `.js`); returns its dist folder. */
export function buildPackage(dir: string): string;
export function buildAll(): void;
