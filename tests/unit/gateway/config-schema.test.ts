/** gateway/config.ts: one TypeBox schema is the type, the defaults, the rules and the README text (issue 16). */
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { ConfigSchema, SETTINGS, loadConfig } from '../../../gateway/config.js';

describe('config schema', () => {
  it('every setting has its own environment variable, a kind and a description', () => {
    const envs = SETTINGS.map((s) => s.env);
    expect(new Set(envs).size).toBe(envs.length);
    for (const s of SETTINGS) {
      expect(s.env, s.key).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(s.kind, s.env).toBeTruthy();
      expect(s.doc.length, s.env).toBeGreaterThan(5);
      expect(ConfigSchema.properties[s.key], s.env).toBe(s.schema);
    }
  });

  it('every default satisfies its own rule', () => {
    for (const s of SETTINGS) if (s.def !== undefined) expect(Value.Check(s.schema, s.def), s.env).toBe(true);
  });

  it('the defaults loaded with no environment are the schema defaults', () => {
    const c = loadConfig({}) as unknown as Record<string, unknown>;
    for (const s of SETTINGS) {
      if (s.def === undefined || s.kind === 'path') continue;
      expect(c[s.key], s.env).toEqual(s.def);
    }
  });

  it('minimum and maximum come from the schema (WRAP_UP_S 0-3600, MQTT_KEEPALIVE_MAX_S 10-65535)', () => {
    const wrap = SETTINGS.find((s) => s.env === 'WRAP_UP_S')!;
    expect([wrap.min, wrap.max]).toEqual([0, 3600]);
    expect(() => loadConfig({ WRAP_UP_S: '3601' })).toThrowError('WRAP_UP_S must be an integer >= 0: "3601"');
    expect(loadConfig({ WRAP_UP_S: '3600' }).wrapUpS).toBe(3600);
    expect(() => loadConfig({ MQTT_KEEPALIVE_MAX_S: '9' })).toThrowError('MQTT_KEEPALIVE_MAX_S must be an integer >= 10: "9"');
  });
});
