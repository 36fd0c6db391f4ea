/**
 * Simulated GT06 tracker(s) on the command line.
 *
 *   npm run sim:gt06 -- --host 127.0.0.1 --port 5023 --imei 868120000000001
 *       [--sos|--fall|--power-cut|--low-battery] [--position-interval 60] [--heartbeat-interval 180] [--count N]
 *
 * It logs in, sends heartbeats (and positions when asked), raises the alarm given (resent until acknowledged)
 * and obeys commands sent through POST /api/devices/:id/commands. --count N starts N trackers with consecutive
 * IMEIs. Ctrl-C closes them and exits.
 */
import { parseArgs } from 'node:util';
import { SimulatedTracker, type TrackerAlarm } from './tracker.js';

const usage = `usage: npm run sim:gt06 -- --host 127.0.0.1 --port 5023 --imei 868120000000001
       [--sos|--fall|--power-cut|--low-battery] [--position-interval SECONDS] [--heartbeat-interval SECONDS] [--count N]`;
const NAMES: Record<number, string> = { 0x01: 'login', 0x12: 'position', 0x13: 'heartbeat', 0x15: 'command response', 0x16: 'alarm', 0x80: 'command' };

function fail(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

function main(): void {
  let a;
  try {
    a = parseArgs({
      options: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '5023' },
        imei: { type: 'string', default: '868120000000001' },
        sos: { type: 'boolean', default: false },
        fall: { type: 'boolean', default: false },
        'power-cut': { type: 'boolean', default: false },
        'low-battery': { type: 'boolean', default: false },
        'position-interval': { type: 'string', default: '0' },
        'heartbeat-interval': { type: 'string', default: '180' },
        count: { type: 'string', default: '1' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (e) {
    fail((e as Error).message);
  }
  if (a.help) return void console.log(usage);
  const port = Number(a.port);
  const count = Number(a.count);
  const posS = Number(a['position-interval']);
  const hbS = Number(a['heartbeat-interval']);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`bad --port ${a.port}`);
  if (!/^\d{15}$/.test(a.imei)) fail(`--imei must be 15 digits, got ${a.imei}`);
  if (!Number.isInteger(count) || count < 1) fail(`bad --count ${a.count}`);
  if (!(posS >= 0) || !(hbS > 0)) fail('intervals must be positive numbers of seconds');
  const alarm: TrackerAlarm | undefined = a.sos ? 'sos' : a.fall ? 'fall' : a['power-cut'] ? 'power_cut' : a['low-battery'] ? 'low_battery' : undefined;

  const trackers: SimulatedTracker[] = [];
  for (let i = 0; i < count; i++) {
    const imei = (BigInt(a.imei) + BigInt(i)).toString().padStart(15, '0');
    const t = new SimulatedTracker({ host: a.host, port, imei, positionMs: posS * 1000, heartbeatMs: hbS * 1000 });
    attach(t, count > 1 ? `[${imei}] ` : '');
    trackers.push(t);
    t.connect().then(
      async () => {
        console.log(`${count > 1 ? `[${imei}] ` : ''}logged in as ${imei}`);
        if (!alarm) return;
        const r = await t.alarm(alarm);
        console.log(`${count > 1 ? `[${imei}] ` : ''}${alarm} acknowledged after ${(r.ackedAt - r.sentAt).toFixed(1)} ms (${r.attempts} attempt${r.attempts > 1 ? 's' : ''})`);
      },
      (e: Error) => {
        console.error(`cannot connect or log in to ${a.host}:${port}: ${e.message} (is the IMEI registered?)`);
        process.exitCode = 1;
      },
    );
  }
  let stopping = false;
  process.on('SIGINT', () => {
    if (stopping) process.exit(130);
    stopping = true;
    void Promise.allSettled(trackers.map((t) => t.close())).then(() => process.exit(0));
  });
}

function attach(t: SimulatedTracker, prefix: string): void {
  t.on('sent', (e: { hex: string; proto: number }) => console.log(`${prefix}sent ${NAMES[e.proto] ?? `0x${e.proto.toString(16)}`}: ${e.hex}`));
  t.on('reply', (f: { hex: string }) => console.log(`${prefix}server replied: ${f.hex}`));
  t.on('command', (text: string) => console.log(`${prefix}server command: ${text}`));
  t.on('alarm_retry', ({ attempts }: { attempts: number }) => console.log(`${prefix}alarm not acknowledged yet; sending it again (attempt ${attempts})`));
  t.on('protocol_error', (e: { reason: string; frame?: string }) => console.log(`${prefix}PROTOCOL ERROR: ${e.reason}${e.frame ? ` in ${e.frame}` : ''}`));
  t.on('interval', (ms: number) => console.log(`${prefix}position interval is now ${ms / 1000} s`));
  t.on('error', (e: Error) => console.log(`${prefix}socket error: ${e.message}`));
  t.on('close', () => console.log(`${prefix}connection closed`));
}

main();
