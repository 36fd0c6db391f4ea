import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig } from '../../../gateway/config.js';
import { describeSerial, parseReceivers } from '../../../gateway/receiver-settings.js';
import { ReceiverWatchdog } from '../../../gateway/transports/receiver-watchdog.js';

describe('RECEIVERS setting', () => {
  it('unset or empty: no receivers', () => {
    expect(parseReceivers(undefined)).toEqual({ receivers: [], problems: [] });
    expect(parseReceivers('  ')).toEqual({ receivers: [], problems: [] });
    expect(loadConfig({}).receivers).toEqual([]);
  });

  it('fills in the MLR2E defaults (19200 7E1) and a 30 s heartbeat', () => {
    const { receivers, problems } = parseReceivers('[{"name":"desk","path":"/dev/ttyUSB0"}]');
    expect(problems).toEqual([]);
    expect(receivers).toEqual([{ name: 'desk', path: '/dev/ttyUSB0', baudRate: 19200, dataBits: 7, parity: 'even', stopBits: 1, vendor: 'default', heartbeatS: 30 }]);
    expect(describeSerial(receivers[0]!)).toBe('19200 7E1');
  });

  it('takes every setting, for several receivers', () => {
    const { receivers, problems } = parseReceivers([
      { name: 'desk', path: '/dev/ttyUSB0' },
      { name: 'mlr2000', path: '/dev/ttyS1', baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1, lineWidth: 3, vendor: 'Climax', heartbeatS: 60 },
    ]);
    expect(problems).toEqual([]);
    expect(receivers[1]).toEqual({ name: 'mlr2000', path: '/dev/ttyS1', baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1, lineWidth: 3, vendor: 'climax', heartbeatS: 60 });
    expect(describeSerial(receivers[1]!)).toBe('9600 8N1');
  });

  it('explains what is wrong, every problem at once', () => {
    expect(parseReceivers('{"name":').problems[0]).toMatch(/^RECEIVERS is not valid JSON .*expected e\.g\. \[\{"name":"desk"/);
    expect(parseReceivers('{"name":"desk"}').problems).toEqual(['RECEIVERS must be a JSON array of receivers, e.g. [{"name":"desk","path":"/dev/ttyUSB0"}]']);
    const { receivers, problems } = parseReceivers(
      JSON.stringify([
        { name: 'desk', path: '/dev/ttyUSB0', baud: 9600 },
        { name: 'bad name', path: '', baudRate: 19201, dataBits: 9, parity: 'even-ish', stopBits: 1.5, lineWidth: 0, vendor: 'acme', heartbeatS: 0 },
        { name: 'desk', path: '/dev/ttyUSB0' },
        'x',
      ]),
    );
    expect(receivers).toEqual([]);
    expect(problems).toEqual([
      'RECEIVERS[0] has an unknown key "baud" (known: name, path, baudRate, dataBits, parity, stopBits, lineWidth, vendor, heartbeatS)',
      'RECEIVERS[1].name must be 1-32 letters, digits, _ or -: "bad name"',
      'RECEIVERS[1].path must be the serial device, e.g. /dev/ttyUSB0: ""',
      'RECEIVERS[1].baudRate must be one of 300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200: 19201',
      'RECEIVERS[1].dataBits must be 5, 6, 7 or 8: 9',
      'RECEIVERS[1].parity must be none, even, odd, mark, space: "even-ish"',
      'RECEIVERS[1].stopBits must be 1 or 2: 1.5',
      'RECEIVERS[1].lineWidth must be an integer 1-8: 0',
      'RECEIVERS[1].vendor must be one of default, sia, climax, vesta: "acme"',
      'RECEIVERS[1].heartbeatS must be an integer 1-3600 (seconds): 0',
      'RECEIVERS[2].name "desk" is used by an earlier receiver',
      'RECEIVERS[2].path "/dev/ttyUSB0" is used by an earlier receiver',
      'RECEIVERS[3] must be an object like {"name":"desk","path":"/dev/ttyUSB0"}',
    ]);
  });

  it('is validated by loadConfig with the other settings', () => {
    try {
      loadConfig({ HTTP_PORT: 'x', RECEIVERS: '[{"path":"/dev/ttyUSB0"}]' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems).toEqual(['HTTP_PORT must be a port number 0-65535: "x"', 'RECEIVERS[0].name must be 1-32 letters, digits, _ or -: undefined']);
    }
  });

  it('may be JSON text in the environment or a JSON array in the config file', () => {
    expect(loadConfig({ RECEIVERS: '[{"name":"a","path":"/dev/ttyS0"}]' }).receivers?.map((r) => r.name)).toEqual(['a']);
    const f = join(tmpdir(), `anxin-cfg-receivers-${process.pid}.json`);
    writeFileSync(f, JSON.stringify({ RECEIVERS: [{ name: 'b', path: '/dev/ttyS1', heartbeatS: 10 }] }));
    expect(loadConfig({ ANXIN_CONFIG: f }).receivers).toMatchObject([{ name: 'b', heartbeatS: 10, baudRate: 19200 }]);
  });
});

describe('ReceiverWatchdog', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup(fail = { raise: 0, clear: 0 }) {
    vi.useFakeTimers();
    const calls: string[] = [];
    const w = new ReceiverWatchdog({
      silentAfterMs: 60_000,
      retryMs: 5_000,
      raise: async (silentMs) => {
        if (fail.raise-- > 0) throw new Error('db down');
        calls.push(`raise:${silentMs}`);
      },
      clear: async () => {
        if (fail.clear-- > 0) throw new Error('db down');
        calls.push('clear');
      },
    });
    return { w, calls };
  }

  it('raises after two heartbeat periods without a line, not before; a line clears it', async () => {
    const { w, calls } = setup();
    w.start();
    w.alive();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual(['clear']); // the first sign of life clears what an earlier run may have left open
    await vi.advanceTimersByTimeAsync(59_999);
    expect(w.isSilent).toBe(false);
    w.alive(); // any line restarts the count
    await vi.advanceTimersByTimeAsync(59_999);
    expect(calls).toEqual(['clear']);
    await vi.advanceTimersByTimeAsync(1);
    expect(w.isSilent).toBe(true);
    expect(calls).toEqual(['clear', 'raise:60000']);
    // still silent: raised once, not again
    await vi.advanceTimersByTimeAsync(300_000);
    expect(calls).toEqual(['clear', 'raise:60000']);
    w.alive();
    await vi.advanceTimersByTimeAsync(0);
    expect(w.isSilent).toBe(false);
    expect(calls).toEqual(['clear', 'raise:60000', 'clear']);
    w.stop();
  });

  it('a receiver never heard from is silent too', async () => {
    const { w, calls } = setup();
    w.start();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toEqual(['raise:60000']);
    w.stop();
  });

  it('retries a raise that could not be committed', async () => {
    const { w, calls } = setup({ raise: 2, clear: 0 });
    w.start();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toEqual(['raise:70000']);
    w.stop();
  });

  it('a line while the raise is being retried ends with the alarm cleared', async () => {
    const { w, calls } = setup({ raise: 1, clear: 1 });
    w.start();
    await vi.advanceTimersByTimeAsync(60_000); // raise fails
    w.alive(); // wanted: not silent; nothing committed yet → clear, which fails once, then succeeds
    await vi.advanceTimersByTimeAsync(5_000);
    expect(calls).toEqual(['clear']);
    expect(w.isSilent).toBe(false);
    w.stop();
  });

  it('stop ends the timers', async () => {
    const { w, calls } = setup();
    w.start();
    w.stop();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(calls).toEqual([]);
  });
});
