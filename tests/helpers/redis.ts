/**
 * A real Redis for the scale-out tests (issue 24), append-only so a restart keeps what was written
 * (testkit/redis.ts). Outside CI a missing redis-server skips the tests that need it; with CI=true it fails
 * (missingTools, checked by each test before starting one).
 */
import { startRedis as startLocalRedis, type LocalRedis } from '../../testkit/redis.js';

export { accepting } from '../../testkit/redis.js';
export { freePort } from '../../testkit/free-port.js';
export type TestRedis = LocalRedis;

export const startRedis = (): Promise<TestRedis> => startLocalRedis({ persistent: true });
