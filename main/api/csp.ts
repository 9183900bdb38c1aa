/**
 * The Content-Security-Policy of the workbench UI, one definition for the Electron window
 * (a <meta> tag injected into renderer/index.html at build time) and the browser host (an
 * HTTP header). Only the app's own bundle may run; nothing is fetched from the network.
 *
 * - script-src 'self': no inline script, no eval, no remote script.
 * - style-src 'self' 'unsafe-inline': Svelte and OpenLayers set element styles at run time
 *   (positions of overlays, controls); inline *styles* cannot execute code, scripts stay locked.
 * - img-src data: blob:: legends and raster images are generated in the page.
 * - connect-src: the app itself; the browser host adds its own ws://127.0.0.1:PORT.
 */
export interface CspOptions {
  /** Extra connect-src sources (the browser host's WebSocket origin). */
  readonly connectSrc?: readonly string[];
  /** Add frame-ancestors 'none' (HTTP header only; ignored in a meta tag). @default false */
  readonly header?: boolean;
}

export function contentSecurityPolicy(options: CspOptions = {}): string {
  const directives: [string, string[]][] = [
    ['default-src', ["'none'"]],
    ['script-src', ["'self'"]],
    ['style-src', ["'self'", "'unsafe-inline'"]],
    ['img-src', ["'self'", 'data:', 'blob:']],
    ['font-src', ["'self'"]],
    ['connect-src', ["'self'", ...(options.connectSrc ?? [])]],
    ['worker-src', ["'self'", 'blob:']],
    ['object-src', ["'none'"]],
    ['base-uri', ["'none'"]],
    ['form-action', ["'none'"]],
  ];
  if (options.header) directives.push(['frame-ancestors', ["'none'"]]);
  return directives.map(([k, v]) => `${k} ${v.join(' ')}`).join('; ');
}
