import { defineConfig, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import { contentSecurityPolicy } from '../main/api/csp.ts';

const root = fileURLToPath(new URL('.', import.meta.url));

/** Puts the one CSP definition (main/api/csp.ts) into index.html as a meta tag. */
function cspMeta(): Plugin {
  return {
    name: 'workbench-csp-meta',
    transformIndexHtml(html) {
      return html.replace('<!--CSP-->', `<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy()}" />`);
    },
  };
}

// Relative base: the same build loads from file:// in Electron and from the browser host.
export default defineConfig({
  root,
  base: './',
  plugins: [svelte(), cspMeta()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 2000,
  },
  logLevel: 'warn',
});
