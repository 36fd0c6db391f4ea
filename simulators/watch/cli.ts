/**
 * Simulated watch(es) on the command line.
 *
 *   npm run sim:watch -- --host 127.0.0.1 --port 5093 --id 8800000015 [--mf 3G]
 *       [--sos|--fall|--removed|--fence-exit] [--ud-interval 60] [--lk-interval 300] [--count N] [--zj INDEX]
 *
 * --count N starts N watches with consecutive ids (8800000015, 8800000016, ...). Ctrl-C closes them and exits.
 */
import { parseArgs } from 'node:util';
import { SimulatedWatch, type AlarmKindSim, type Received } from './watch.js';

const WORDS: Record<string, string> = {
  LK: 'heartbeat',
  UD: 'position report',
  AL: 'alarm',
  CR: 'locate now',
  UPLOAD: 'change report interval',
  FIND: 'ring the watch',
  POWEROFF: 'power off',
  RESET: 'restart',
  SOS: 'set SOS numbers',
  SOS1: 'set SOS number 1',
  SOS2: 'set SOS number 2',
  SOS3: 'set SOS number 3',
  CENTER: 'set centre number',
  LZ: 'set language and timezone',
  FALLDOWN: 'fall detection switch',
  LSSET: 'fall sensitivity',
  hrtstart: 'measure heart rate',
  MESSAGE: 'show a text',
  PHB: 'set phonebook',
  APPLOCK: 'app lock switch',
  REMOVE: 'removal alarm switch',
  bphrt: 'blood pressure and heart rate',
  heart: 'heart rate',
  oxygen: 'blood oxygen',
  btemp2: 'body temperature',
};

const usage = `usage: npm run sim:watch -- --host 127.0.0.1 --port 5093 --id 8800000015 [--mf 3G]
       [--sos|--fall|--removed|--fence-exit] [--ud-interval SECONDS] [--lk-interval SECONDS] [--count N] [--zj INDEX]`;

function fail(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

function main(): void {
  let args;
  try {
    args = parseArgs({
      options: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '5093' },
        id: { type: 'string', default: '8800000015' },
        mf: { type: 'string', default: '3G' },
        sos: { type: 'boolean', default: false },
        fall: { type: 'boolean', default: false },
        removed: { type: 'boolean', default: false },
        'fence-exit': { type: 'boolean', default: false },
        'ud-interval': { type: 'string', default: '0' },
        'lk-interval': { type: 'string', default: '300' },
        count: { type: 'string', default: '1' },
        zj: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (e) {
    fail((e as Error).message);
  }
  if (args.help) {
    console.log(usage);
    return;
  }
  const port = Number(args.port);
  const count = Number(args.count);
  const udSeconds = Number(args['ud-interval']);
  const lkSeconds = Number(args['lk-interval']);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`bad --port ${args.port}`);
  if (!/^[0-9]+$/.test(args.id)) fail(`--id must be digits, got ${args.id}`);
  if (!/^[0-9A-Za-z]{2}$/.test(args.mf)) fail(`--mf must be 2 characters, got ${args.mf}`);
  if (!Number.isInteger(count) || count < 1) fail(`bad --count ${args.count}`);
  if (!(udSeconds >= 0) || !(lkSeconds > 0)) fail('intervals must be positive numbers of seconds');
  if (args.zj !== undefined && !/^[0-9A-Fa-f]{4}$/.test(args.zj)) fail(`--zj must be 4 hex digits, got ${args.zj}`);
  const alarm: AlarmKindSim | undefined = args.sos ? 'sos' : args.fall ? 'fall' : args.removed ? 'removed' : args['fence-exit'] ? 'fence_exit' : undefined;

  const first = BigInt(args.id);
  const watches: SimulatedWatch[] = [];
  for (let i = 0; i < count; i++) {
    const id = (first + BigInt(i)).toString().padStart(args.id.length, '0');
    const w = new SimulatedWatch({
      host: args.host,
      port,
      deviceId: id,
      manufacturer: args.mf,
      udIntervalMs: udSeconds * 1000,
      lkIntervalMs: lkSeconds * 1000,
      ...(args.zj ? { zjIndex: args.zj } : {}),
    });
    attach(w, count > 1 ? `[${id}] ` : '');
    watches.push(w);
  }

  let stopping = false;
  process.on('SIGINT', () => {
    if (stopping) process.exit(130);
    stopping = true;
    console.log('\nclosing...');
    void Promise.allSettled(watches.map((w) => w.close())).then(() => process.exit(0));
  });

  for (const w of watches) {
    w.connect().then(
      async () => {
        if (!alarm) return;
        console.log(`${tag(w)}raising a ${alarm} alarm; it is resent until the server acknowledges it`);
        const r = await w.sendAlarm(alarm);
        console.log(`${tag(w)}alarm acknowledged after ${(r.ackedAt - r.sentAt).toFixed(1)} ms (${r.attempts} attempt${r.attempts > 1 ? 's' : ''})`);
      },
      (e: Error) => {
        console.error(`${tag(w)}cannot connect to ${args.host}:${port}: ${e.message}`);
        process.exitCode = 1;
      },
    ).catch((e: Error) => console.error(`${tag(w)}${e.message}`));
  }
}

const tags = new WeakMap<SimulatedWatch, string>();
const tag = (w: SimulatedWatch): string => tags.get(w) ?? '';

function describe(keyword: string): string {
  return WORDS[keyword] ?? WORDS[keyword.split('_')[0]!] ?? 'unknown';
}

function attach(w: SimulatedWatch, prefix: string): void {
  tags.set(w, prefix);
  w.on('connect', () => console.log(`${prefix}connected as ${w.manufacturer}*${w.deviceId}`));
  w.on('sent', ({ frame }: { frame: string }) => {
    const kw = frame.replace(/^\[[^*]*\*[^*]*\*(?:[0-9A-Fa-f]{4}\*)?[0-9A-Fa-f]{4}\*/, '').split(/[,\]]/)[0] ?? '';
    const own = kw === 'LK' || kw.startsWith('UD') || kw.startsWith('AL') || ['bphrt', 'heart', 'oxygen', 'btemp2'].includes(kw);
    console.log(`${prefix}${own ? 'sent' : 'echoed command'} ${kw} (${describe(kw)}): ${frame}`);
  });
  w.on('received', (r: Received) => {
    const what = r.role === 'reply' ? 'server replied' : r.role === 'command' ? `server command ${r.keyword} (${describe(r.keyword)})` : 'unexpected frame';
    console.log(`${prefix}${what}: ${r.frame}`);
  });
  w.on('unanswered', () => console.log(`${prefix}no answer to LK; sending it again`));
  w.on('alarm_retry', ({ attempts }: { attempts: number }) => console.log(`${prefix}alarm not acknowledged yet; sending it again (attempt ${attempts})`));
  w.on('protocol_error', (e: { reason: string; frame?: string }) => console.log(`${prefix}PROTOCOL ERROR: ${e.reason}${e.frame ? ` in ${e.frame}` : ''}`));
  w.on('find', () => console.log(`${prefix}*** ringing (FIND) ***`));
  w.on('interval', (ms: number) => console.log(`${prefix}position interval is now ${ms / 1000} s`));
  w.on('error', (e: Error) => console.log(`${prefix}socket error: ${e.message}`));
  w.on('close', () => console.log(`${prefix}connection closed`));
}

main();
