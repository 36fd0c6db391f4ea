/**
 * Simulated SMSC (SMPP 3.4) on the command line.
 *
 *   npm run sim:smsc -- [--host 127.0.0.1] [--port 2775] [--system-id anxin] [--password secret]
 *       [--receipt-delay-ms 50 | --no-receipts] [--stat DELIVRD] [--receipt-text-only] [--decimal-ids]
 *       [--slow-ms N] [--throttle N] [--mo FROM:TEXT [--mo-after-ms 2000]]
 *
 * It accepts transceiver binds with the system id and password given, answers submit_sm with message ids,
 * reassembles concatenated parts and sends delivery receipts. --throttle N answers the first N submits with
 * ESME_RTHROTTLED; --slow-ms delays every submit_sm_resp; --mo injects a mobile-originated message after the
 * first bind. Received messages are printed as counts and lengths (numbers and texts are personal data).
 * Ctrl-C stops it.
 */
import { parseArgs } from 'node:util';
import { SimulatedSmsc, type ReceiptStat } from './smsc.ts';

const usage = `usage: npm run sim:smsc -- [--host 127.0.0.1] [--port 2775] [--system-id anxin] [--password secret]
       [--receipt-delay-ms N | --no-receipts] [--stat DELIVRD|EXPIRED|DELETED|UNDELIV|ACCEPTD|UNKNOWN|REJECTD]
       [--receipt-text-only] [--decimal-ids] [--slow-ms N] [--throttle N] [--mo FROM:TEXT] [--mo-after-ms N]`;
const STATS = ['DELIVRD', 'EXPIRED', 'DELETED', 'UNDELIV', 'ACCEPTD', 'UNKNOWN', 'REJECTD', 'ENROUTE'];

function fail(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

function say(text: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 23)}  ${text}\n`);
}

async function main(): Promise<void> {
  let a;
  try {
    a = parseArgs({
      options: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '2775' },
        'system-id': { type: 'string', default: 'anxin' },
        password: { type: 'string', default: 'secret' },
        'receipt-delay-ms': { type: 'string', default: '50' },
        'no-receipts': { type: 'boolean', default: false },
        stat: { type: 'string', default: 'DELIVRD' },
        'receipt-text-only': { type: 'boolean', default: false },
        'decimal-ids': { type: 'boolean', default: false },
        'slow-ms': { type: 'string', default: '0' },
        throttle: { type: 'string', default: '0' },
        mo: { type: 'string' },
        'mo-after-ms': { type: 'string', default: '2000' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    fail((e as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
  if (a.help) return void console.log(usage);
  const num = (v: string, name: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) fail(`--${name} wants a whole number, got ${JSON.stringify(v)}`);
    return n;
  };
  const port = num(a.port, 'port');
  if (port > 65535) fail(`bad --port ${a.port}`);
  const stat = a.stat.toUpperCase();
  if (!STATS.includes(stat)) fail(`--stat is one of ${STATS.join(', ')}`);
  const mo = a.mo ? /^(\+?\d{3,20}):(.+)$/s.exec(a.mo) : undefined;
  if (a.mo && !mo) fail('--mo wants FROM:TEXT, e.g. 8613912345678:1');

  const smsc = new SimulatedSmsc({
    systemId: a['system-id'],
    password: a.password,
    receiptDelayMs: a['no-receipts'] ? null : num(a['receipt-delay-ms'], 'receipt-delay-ms'),
    receiptStat: stat as ReceiptStat,
    receiptStyle: a['receipt-text-only'] ? 'text' : 'tlv',
    receiptIdDecimal: a['decimal-ids'],
  });
  smsc.slow(num(a['slow-ms'], 'slow-ms'));
  smsc.throttleNext(num(a.throttle, 'throttle'));
  smsc.on('bind', (b: { interfaceVersion: number }) => say(`bind (interface_version 0x${Number(b.interfaceVersion).toString(16)})`));
  smsc.on('throttled', () => say('submit_sm answered ESME_RTHROTTLED (0x58)'));
  smsc.on('submit', (s: { messageId: string; concat?: { seq: number; total: number } }) =>
    say(`submit_sm → message_id ${s.messageId}${s.concat ? ` (part ${s.concat.seq}/${s.concat.total})` : ''}`),
  );
  smsc.on('message', (m: { text: string; parts: number }) => say(`message complete: ${m.text.length} characters in ${m.parts} part(s)`));
  const bound = await smsc.listen(port, a.host);
  say(`SMSC listening on ${a.host}:${bound} (system_id ${a['system-id']})`);
  if (mo) {
    const inject = () => setTimeout(() => say(`MO message sent to ${smsc.injectMo(mo[1]!.replace(/^\+/, ''), mo[2]!)} part(s)/bind(s)`), num(a['mo-after-ms'], 'mo-after-ms'));
    smsc.once('bind', inject);
  }
  const stop = () => void smsc.close().finally(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(`SMSC simulator: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
