/**
 * The agents' dashboard: `npm run build:dashboard` (vite build dashboard) writes dashboard/dist, which the gateway
 * serves at `/`. For development: `npx vite dashboard` with the gateway running (ANXIN_URL, default :8080).
 */
import { defineConfig } from 'vite';

declare const process: { env: Record<string, string | undefined> };
const target = process.env.ANXIN_URL ?? 'http://127.0.0.1:8080';
/** a page of this folder, wherever vite was started from */
const page = (name: string) => decodeURIComponent(new URL(`./${name}`, import.meta.url).pathname);

export default defineConfig({
  base: '/',
  // JSX through esbuild (Preact's automatic runtime); no framework plugin needed.
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  // two pages: the dashboard, and the responder's page (/r/<token>, gateway/http/dashboard.ts)
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: true, rollupOptions: { input: { main: page('index.html'), responder: page('responder.html') } } },
  server: { proxy: { '/api': { target, ws: true } } },
});
