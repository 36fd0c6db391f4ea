import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, SETTINGS, loadConfig } from '../../../gateway/config.js';
import { ROOT } from '../../helpers/vectors.js';

describe('config', () => {
  it('has sane defaults with no environment', () => {
    const c = loadConfig({});
    expect(c.httpPort).toBe(8080);
    expect(c.mqttPort).toBe(1883);
    expect(c.watchPort).toBe(5093);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.timezone).toBe('Asia/Shanghai');
  });

  it('explains a bad URL the way a person can act on', () => {
    expect(() => loadConfig({ DATABASE_URL: 'htp:/x' })).toThrowError('DATABASE_URL is not a URL: "htp:/x"');
  });

  it('lists every problem at once', () => {
    try {
      loadConfig({ HTTP_PORT: '99999', LOG_LEVEL: 'loud', WATCH_IDLE_TIMEOUT_S: 'soon' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const p = (e as ConfigError).problems;
      expect(p).toHaveLength(3);
      expect(p).toEqual([
        'HTTP_PORT must be a port number 0-65535: "99999"',
        'WATCH_IDLE_TIMEOUT_S must be an integer >= 30: "soon"',
        'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent: "loud"',
      ]);
    }
  });

  it('reads an optional JSON config file; the environment wins', () => {
    const f = join(tmpdir(), `anxin-cfg-${process.pid}.json`);
    writeFileSync(f, JSON.stringify({ HTTP_PORT: 9000, mqttPort: 1999 }));
    const c = loadConfig({ ANXIN_CONFIG: f, MQTT_PORT: '2883' });
    expect(c.httpPort).toBe(9000);
    expect(c.mqttPort).toBe(2883);
  });

  it('refuses unknown keys in the config file', () => {
    const f = join(tmpdir(), `anxin-cfg-bad-${process.pid}.json`);
    writeFileSync(f, JSON.stringify({ HTTP_PROT: 9000 }));
    expect(() => loadConfig({ ANXIN_CONFIG: f })).toThrowError(/unknown setting "HTTP_PROT"/);
  });

  it('every setting is documented in the README table', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const missing = SETTINGS.filter((s) => !readme.includes(`\`${s.env}\``)).map((s) => s.env);
    expect(missing).toEqual([]);
  });
});
