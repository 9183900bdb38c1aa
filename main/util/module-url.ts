/**
 * URL of a sibling module given by its source name (`moduleUrl('./kriging-worker.ts', import.meta.url)`),
 * as it exists where the caller runs: the `.ts` source under tsx, the compiled `.js` when the
 * caller itself is compiled JavaScript (dist/). tsc rewrites `./x.ts` in import specifiers but
 * not in `new URL()` strings, which is how worker files and replica programs are located.
 */
export function moduleUrl(sourceSpecifier: string, base: string): URL {
  const compiled = /\.js$/.test(new URL(base).pathname);
  return new URL(compiled ? sourceSpecifier.replace(/\.ts$/, '.js') : sourceSpecifier, base);
}
