/**
 * The singletons' lock keys (gateway/cluster/leader.ts) must be the same on every node and every version: two nodes
 * of different versions deriving different keys would both run the work during a rolling upgrade.
 */
import { describe, expect, it } from 'vitest';
import { LEADER_NAMESPACE, leaderKey } from '../../../gateway/cluster/leader.js';

describe('leaderKey', () => {
  it('is fixed per name (pinned values: changing the derivation breaks rolling upgrades)', () => {
    expect(leaderKey('alarm-engine-timer')).toEqual([LEADER_NAMESPACE, -2113932652]);
    expect(leaderKey('receivers')).toEqual([LEADER_NAMESPACE, 1434313506]);
  });

  it('gives different names different keys, each a signed 32-bit integer', () => {
    const names = ['alarm-engine-timer', 'receivers', 'telephony', 'a', 'b', 'A'];
    const keys = names.map((n) => leaderKey(n)[1]);
    expect(new Set(keys).size).toBe(names.length);
    for (const k of keys) expect(Number.isInteger(k) && k >= -(2 ** 31) && k < 2 ** 31).toBe(true);
  });
});
