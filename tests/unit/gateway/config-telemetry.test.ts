import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../gateway/config.js';

const problems = (env: Record<string, string>) => {
  try {
    loadConfig(env);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
};

describe('telemetry configuration', () => {
  it('defaults to PostgreSQL, 1.x API settings and batches of 5000', () => {
    const c = loadConfig({});
    expect(c.influxUrl).toBeUndefined();
    expect(c).toMatchObject({ influxApi: '1', influxDatabase: 'anxin', telemetryBatchSize: 5000 });
  });

  it('accepts a 2.x/3.x setup', () => {
    const c = loadConfig({ INFLUX_URL: 'http://influx:8086', INFLUX_API: '2', INFLUX_ORG: 'centre', INFLUX_BUCKET: 'telemetry', INFLUX_TOKEN: 't0k' });
    expect(c).toMatchObject({ influxUrl: 'http://influx:8086', influxApi: '2', influxOrg: 'centre', influxBucket: 'telemetry', influxToken: 't0k' });
  });

  it('says what is missing or inconsistent, all at once', () => {
    expect(problems({ INFLUX_URL: 'http://influx:8086', INFLUX_API: '2', INFLUX_USERNAME: 'gw', TELEMETRY_BATCH_SIZE: '5000', TELEMETRY_MAX_BUFFER: '1000' })).toEqual([
      'INFLUX_API=2 needs INFLUX_BUCKET (on InfluxDB 3.x: the database name)',
      'INFLUX_API=2 needs INFLUX_TOKEN (an API token with write and read access to the bucket)',
      'INFLUX_USERNAME is set but INFLUX_PASSWORD is not',
      'TELEMETRY_BATCH_SIZE (5000) must not exceed TELEMETRY_MAX_BUFFER (1000)',
    ]);
    expect(problems({ INFLUX_API: '3' })).toEqual(['INFLUX_API must be one of 1, 2: "3"']);
    expect(problems({ INFLUX_URL: 'influx:8086' })).toEqual(['INFLUX_URL is not a URL: "influx:8086"']);
    expect(problems({ INFLUX_URL: 'udp://influx:8089' })).toEqual(['INFLUX_URL must be an http:// or https:// URL: "udp://influx:8089"']);
    expect(problems({ TELEMETRY_BATCH_SIZE: '0' })).toEqual(['TELEMETRY_BATCH_SIZE must be an integer >= 1: "0"']);
  });
});
