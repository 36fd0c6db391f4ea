/** gateway/hotline-settings.ts: HOTLINE_DIDS, HOTLINE_IVR and the queue settings → createTelephony's hotlines and queue (issue 19). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../gateway/config.js';
import { hotlineSettings } from '../../../gateway/hotline-settings.js';

const IVR = { '12349': { greeting: { 'zh-CN': ['sound:anxin-hotline-welcome'] }, options: { '1': 'emergency', '2': 'services' }, timeoutS: 5 } };

describe('hotline settings', () => {
  it('defaults: no hotline, queue 15 s ring, 120 s wait, voicemail', () => {
    const c = loadConfig({});
    expect(hotlineSettings(c)).toEqual({ hotlines: [], queue: { ringTimeoutS: 15, maxWaitS: 120, overflow: { to: 'voicemail', maxS: 120 } }, problems: [] });
    expect(c.recordingRetentionDays).toBe(90);
  });

  it('DIDs with an IVR for one of them, from JSON text or a file', () => {
    const c = loadConfig({ HOTLINE_DIDS: '12349, 02160000000', HOTLINE_IVR: JSON.stringify(IVR), RING_TIMEOUT_S: '20', QUEUE_MAX_WAIT_S: '90' });
    const s = hotlineSettings(c);
    expect(s.hotlines).toEqual([{ did: '12349', name: '12349', ivr: IVR['12349'] }, { did: '02160000000', name: '02160000000' }]);
    expect(s.queue).toMatchObject({ ringTimeoutS: 20, maxWaitS: 90 });
    const f = join(mkdtempSync(join(tmpdir(), 'anxin-ivr-')), 'ivr.json');
    writeFileSync(f, JSON.stringify(IVR));
    expect(hotlineSettings(loadConfig({ HOTLINE_DIDS: '12349', HOTLINE_IVR: f })).hotlines[0]?.ivr).toEqual(IVR['12349']);
  });

  it('night overflow needs NIGHT_NUMBER; a bad IVR is refused at start with every problem', () => {
    expect(() => loadConfig({ QUEUE_OVERFLOW: 'night' })).toThrowError(/QUEUE_OVERFLOW=night needs NIGHT_NUMBER/);
    expect(hotlineSettings(loadConfig({ QUEUE_OVERFLOW: 'night', NIGHT_NUMBER: '13800000001' })).queue.overflow).toEqual({ to: 'night', number: '13800000001' });
    const bad = JSON.stringify({ '12349': { greeting: { 'zh-CN': 'x' }, options: { '12': 'sos' } }, '555': IVR['12349'] });
    expect(() => loadConfig({ HOTLINE_DIDS: '12349', HOTLINE_IVR: bad })).toThrowError(/greeting[\s\S]*options[\s\S]*not in HOTLINE_DIDS|not in HOTLINE_DIDS[\s\S]*greeting/);
    expect(() => loadConfig({ HOTLINE_DIDS: '12349', HOTLINE_IVR: '{not json' })).toThrowError(/HOTLINE_IVR is neither/);
  });
});
