/**
 * Builds the UI into dist/renderer with relative asset URLs, so the same files
 * load from the desktop app's `app://` scheme and from the web-mode server.
 * No inline scripts or styles are emitted (the pages run under a strict CSP).
 * After writing, prints the bundle size (raw and gzip as Vite measured it).
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

function reportBundleSize(): Plugin {
  return {
    name: 'conclave-bundle-size',
    apply: 'build',
    generateBundle(_options, bundle) {
      let js = 0;
      let css = 0;
      let other = 0;
      for (const file of Object.values(bundle)) {
        const bytes = file.type === 'chunk' ? new TextEncoder().encode(file.code).length : typeof file.source === 'string' ? new TextEncoder().encode(file.source).length : file.source.length;
        if (file.fileName.endsWith('.js')) js += bytes;
        else if (file.fileName.endsWith('.css')) css += bytes;
        else other += bytes;
      }
      const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`;
      console.log(`\nconclave renderer bundle size: ${kb(js + css + other)} (js ${kb(js)}, css ${kb(css)}, other ${kb(other)})`);
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [react(), reportBundleSize()],
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2022',
    reportCompressedSize: true,
  },
});
