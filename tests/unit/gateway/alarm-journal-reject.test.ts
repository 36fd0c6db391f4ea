/**
 * A journaled alarm PostgreSQL refuses for its data (class 22/23, e.g. 22P05 for a NUL in jsonb) must not block the
 * entries behind it: the replay sets it aside in rejected.jsonl (kept, fsync'd) and goes on; a database that is down
 * (no such code) stops the replay as before, the entries still pending. And the text a device sends loses its NULs
 * before it reaches PostgreSQL (issue 26's fuzz bench found both).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { AlarmService, type Committer } from '../../../gateway/alarms/alarm-service.js';
import { CommitError } from '../../../gateway/alarms/commit-thread.js';
import { withoutNul, type CommitOutcome, type JournalPayload } from '../../../gateway/alarms/commit-tx.js';
import { Journal } from '../../../gateway/alarms/journal.js';
import { Bus } from '../../../gateway/bus.js';
import { createMetrics } from '../../../gateway/metrics.js';
import type { Db } from '../../../gateway/store/db.js';

const payload = (raw: string): JournalPayload => ({
  device: { id: 1, identifier: 'A1', elderId: null, protocol: 'dc09' },
  msg: { protocol: 'dc09', deviceId: 'A1', raw, receivedAt: new Date().toISOString() },
  raise: [{ kind: 'sos' }],
  clear: [],
  windowS: 600,
});

function setup(committer: Committer) {
  const dir = mkdtempSync(join(tmpdir(), 'anxin-journal-'));
  const journal = new Journal<JournalPayload>(dir);
  const metrics = createMetrics();
  const svc = new AlarmService(undefined as unknown as Db, new Bus(), metrics, journal, undefined, pino({ level: 'silent' }), committer);
  return { dir, journal, svc, metrics };
}

describe('alarm journal replay', () => {
  it('sets aside an entry PostgreSQL refuses for its data and replays the ones behind it', async () => {
    const committed: string[] = [];
    const { dir, journal, svc } = setup(async (key) => {
      if (key === 'bad') throw new CommitError('unsupported Unicode escape sequence', '22P05');
      committed.push(key);
      return { done: true, changes: [], tests: [] } satisfies CommitOutcome;
    });
    await journal.add('bad', payload('x'));
    await journal.add('good', payload('y'));
    expect(await svc.replay()).toBe(1);
    expect(committed).toEqual(['good']);
    expect(journal.depth).toBe(0);
    const rejected = readFileSync(join(dir, 'rejected.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rejected).toEqual([expect.objectContaining({ key: 'bad', reason: 'postgres 22P05', payload: expect.objectContaining({ msg: expect.objectContaining({ raw: 'x' }) }) })]);
    journal.close();
  });

  it('a database that is down stops the replay, and every entry stays pending', async () => {
    const { journal, svc } = setup(async () => {
      throw new CommitError('connect ECONNREFUSED', 'ECONNREFUSED');
    });
    await journal.add('a', payload('x'));
    await journal.add('b', payload('y'));
    await expect(svc.replay()).rejects.toThrow(/ECONNREFUSED/);
    expect(journal.depth).toBe(2);
    journal.close();
  });
});

describe('withoutNul', () => {
  it('replaces NUL in every string, keys included, and leaves the rest as it was', () => {
    const at = new Date();
    expect(withoutNul({ raw: 'a\u0000b', detail: { ['k\u0000']: ['\u0000', 1, null, true] }, at })).toEqual({ raw: 'a\uFFFDb', detail: { 'k\uFFFD': ['\uFFFD', 1, null, true] }, at });
    const clean = { raw: 'abc' };
    expect(withoutNul(clean)).toEqual(clean);
  });
});
