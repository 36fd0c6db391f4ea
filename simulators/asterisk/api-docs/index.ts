/**
 * The api-docs served at /ari/api-docs/resources.json and /ari/api-docs/<name>.json, with `basePath`
 * rewritten to `http://<Host header>/ari` on every request (ari.md §0.1, res_ari.c ast_ari_get_docs).
 */
import { API_VERSION, DISK_BASE_PATH, type ResourceDoc } from './build.ts';
import { bridgesDoc } from './bridges.ts';
import { channelsDoc } from './channels.ts';
import { eventsDoc } from './events.ts';
import { applicationsDoc, asteriskDoc, playbacksDoc } from './misc.ts';
import { recordingsDoc } from './recordings.ts';

export { EVENT_TYPES } from './events.ts';

/** Every resource a promoted event property can need is listed (ari.md §0.3). */
const RESOURCES: Record<string, { doc: ResourceDoc; description: string }> = {
  asterisk: { doc: asteriskDoc, description: 'Asterisk resources' },
  channels: { doc: channelsDoc, description: 'Channel resources' },
  bridges: { doc: bridgesDoc, description: 'Bridge resources' },
  playbacks: { doc: playbacksDoc, description: 'Playback control resources' },
  events: { doc: eventsDoc, description: 'WebSocket resource' },
  applications: { doc: applicationsDoc, description: 'Stasis application resources' },
  recordings: { doc: recordingsDoc, description: 'Recording resources' },
};

function resourcesListing(): Record<string, unknown> {
  return {
    _copyright: 'Hand-written for the Anxin Asterisk simulator from the facts in ari.md.',
    apiVersion: API_VERSION,
    swaggerVersion: '1.1',
    basePath: DISK_BASE_PATH,
    apis: Object.entries(RESOURCES).map(([name, r]) => ({ path: `/api-docs/${name}.{format}`, description: r.description })),
  };
}

/**
 * `file` is the part after `api-docs/` (`resources.json`, `channels.json`). Returns null when there is no
 * such file. With no Host header the basePath is removed, as Asterisk does.
 */
export function getApiDoc(file: string, host: string | undefined): Record<string, unknown> | null {
  let doc: Record<string, unknown>;
  if (file === 'resources.json') doc = resourcesListing();
  else {
    const m = /^([a-zA-Z]+)\.json$/.exec(file);
    const r = m?.[1] !== undefined ? RESOURCES[m[1]] : undefined;
    if (!r) return null;
    doc = structuredClone(r.doc) as unknown as Record<string, unknown>;
  }
  if (host) doc.basePath = `http://${host}/ari`;
  else delete doc.basePath;
  return doc;
}
