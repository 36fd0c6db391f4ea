/**
 * Serves the built dashboard (dashboard/dist, from `npm run build:dashboard`) at `/`, and GET /api/config: the
 * few settings the browser needs (map tiles, the centre's time zone). Hashed assets are cached for a year;
 * index.html never, so a new build reaches every open screen on its next load.
 */
import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import { ROOT } from '../paths.js';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { ServerConfigSchema } from './responses.js';

export const DASHBOARD_DIST = join(ROOT, 'dashboard', 'dist') + sep;

export interface DashboardOptions {
  /** where the built files are; default dashboard/dist */
  root?: string;
  /** Leaflet tile URL template; empty: the map draws without a base map (offline centres) */
  mapTileUrl?: string;
  mapTileAttribution?: string;
  timezone: string;
  /** seconds of wrap-up (话后整理) before an agent is ready again */
  wrapUpS?: number;
}

export async function dashboardRoutes(app: FastifyInstance, o: DashboardOptions): Promise<void> {
  const root = o.root ?? DASHBOARD_DIST;

  // Features other parts add (telephony, telemetry) are looked up when asked, so the browser never calls an absent route.
  const has = (method: 'GET' | 'POST', url: string) => app.hasRoute({ method, url });
  app.get('/api/config', { schema: { tags: ['dashboard'], summary: 'Settings the dashboard reads at start (no login needed)', security: [], response: { 200: ServerConfigSchema } } }, async () => ({
    mapTileUrl: o.mapTileUrl ?? '',
    mapTileAttribution: o.mapTileAttribution ?? '',
    timezone: o.timezone,
    wrapUpS: o.wrapUpS ?? 30,
    features: {
      calls: has('POST', '/api/calls'),
      callList: has('GET', '/api/calls'),
      track: has('GET', '/api/elders/:id/track'),
      lastPositions: has('GET', '/api/telemetry/last-positions'),
    },
  }));

  if (!existsSync(`${root}/index.html`)) {
    app.log.warn({ root }, 'dashboard not built: run `npm run build:dashboard`');
    app.get('/', { schema: { hide: true } }, async (_req, reply) =>
      reply
        .status(503)
        .type('text/html; charset=utf-8')
        .send('<!doctype html><meta charset="utf-8"><title>Anxin</title><p>The dashboard is not built yet. Run <code>npm run build:dashboard</code> and reload. 控制台尚未构建：请运行 <code>npm run build:dashboard</code>。</p>'),
    );
    return;
  }

  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    index: 'index.html',
    cacheControl: false,
    setHeaders: (reply, path) => {
      reply.header('cache-control', /[/\\]assets[/\\]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
      reply.header('x-content-type-options', 'nosniff');
    },
  });
  // The responder's page (issue 21): the one-time link from a dispatch SMS. The token stays out of referrers and
  // caches, and out of search engines.
  app.get('/r/:token', { schema: { hide: true } }, (_req, reply) =>
    reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').header('x-robots-tag', 'noindex').sendFile('responder.html'),
  );
}
