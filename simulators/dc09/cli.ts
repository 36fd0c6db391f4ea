/**
 * A simulated SIA DC-09 transmitter (alarm panel / IP communicator) on the command line.
 *
 *   npm run sim:dc09 -- --host 127.0.0.1 --port 5096 [--udp] --account 1234 --prefix 0 [--receiver HEX]
 *       [--key HEX] [--sia] [--panic|--medical|--fire|--fall-zone N] [--zone N] [--null-interval S] [--skew S]
 *
 * It sends the event given (ADM-CID by default, SIA-DCS with --sia; encrypted with --key), retrying as dc09.md §4
 * describes, and prints every frame sent and every reply. --null-interval S then keeps the link up with NULL polls
 * until Ctrl-C; with neither an event nor polling it sends one NULL. --skew S sets the panel clock S seconds off
 * (a receiver NAKs an encrypted message outside its window; the panel corrects its clock from the NAK).
 */
import { parseArgs } from 'node:util';
import { Dc09Transmitter, type SendOutcome } from './transmitter.js';
import type { Reply } from './wire.js';

const usage = `usage: npm run sim:dc09 -- --host 127.0.0.1 --port 5096 [--udp] --account 1234 --prefix 0 [--receiver HEX]
       [--key HEX] [--sia] [--panic|--medical|--fire|--fall-zone N] [--zone N] [--null-interval SECONDS] [--skew SECONDS]
       (a negative skew is written --skew=-120)`;

/** Contact ID code and SIA-DCS letters per alarm (dc09.md §7); a fall has no code of its own: 101 / QA on its zone. */
const EVENTS = {
  panic: { cid: 120, sia: 'PA', label: '紧急求助 / panic' },
  medical: { cid: 100, sia: 'MA', label: '医疗求助 / medical' },
  fire: { cid: 110, sia: 'FA', label: '火警 / fire' },
  fall: { cid: 101, sia: 'QA', label: '跌倒 / fall' },
} as const;

const REPLIES: Record<SendOutcome['reply'], string> = {
  ACK: '已确认 / acknowledged',
  NAK: '时间被拒绝 / NAK (timestamp rejected)',
  DUH: '接收机无法处理 / DUH (not processed)',
  none: '无应答 / no reply',
};

function fail(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

/** The §9 notation: `\n` and `\r` spelled out, other control bytes as `\xNN`. */
const show = (b: Buffer): string => b.toString('latin1').replace(/[\x00-\x1f\x7f-\xff]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));

async function main(): Promise<void> {
  let a;
  try {
    a = parseArgs({
      options: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '5096' },
        udp: { type: 'boolean', default: false },
        account: { type: 'string', default: '1234' },
        prefix: { type: 'string', default: '0' },
        receiver: { type: 'string' },
        key: { type: 'string' },
        sia: { type: 'boolean', default: false },
        panic: { type: 'boolean', default: false },
        medical: { type: 'boolean', default: false },
        fire: { type: 'boolean', default: false },
        'fall-zone': { type: 'string' },
        zone: { type: 'string', default: '1' },
        'null-interval': { type: 'string', default: '0' },
        skew: { type: 'string', default: '0' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (e) {
    fail((e as Error).message);
  }
  if (a.help) return void console.log(usage);
  const port = Number(a.port);
  const nullS = Number(a['null-interval']);
  const skew = Number(a.skew);
  const zone = Number(a['fall-zone'] ?? a.zone);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`bad --port ${a.port}`);
  if (!/^[0-9A-Fa-f]{1,16}$/.test(a.account)) fail(`--account must be 1-16 hex characters, got ${a.account}`);
  if (!/^[0-9A-Fa-f]{0,6}$/.test(a.prefix)) fail(`--prefix must be hex, got ${a.prefix}`);
  if (a.receiver !== undefined && !/^[0-9A-Fa-f]{1,6}$/.test(a.receiver)) fail(`--receiver must be 1-6 hex digits, got ${a.receiver}`);
  if (a.key !== undefined && !/^(?:[0-9A-Fa-f]{32}|[0-9A-Fa-f]{48}|[0-9A-Fa-f]{64})$/.test(a.key)) fail('--key must be 32, 48 or 64 hex digits (AES-128/192/256)');
  if (!Number.isInteger(zone) || zone < 0 || zone > 999) fail('zone must be 0-999');
  if (!(nullS >= 0)) fail('--null-interval must be a number of seconds');
  if (!Number.isFinite(skew)) fail('--skew must be a number of seconds');
  const fall = a['fall-zone'] !== undefined;
  if ([a.panic, a.medical, a.fire, fall].filter(Boolean).length > 1) fail('give at most one of --panic, --medical, --fire, --fall-zone');
  const kind: keyof typeof EVENTS | undefined = a.panic ? 'panic' : a.medical ? 'medical' : a.fire ? 'fire' : fall ? 'fall' : undefined;

  const t = new Dc09Transmitter({
    host: a.host,
    port,
    transport: a.udp ? 'udp' : 'tcp',
    account: a.account.toUpperCase(),
    prefix: a.prefix.toUpperCase(),
    ...(a.receiver !== undefined ? { receiver: a.receiver.toUpperCase() } : {}),
    ...(a.key !== undefined ? { key: Buffer.from(a.key, 'hex') } : {}),
    clockSkewS: skew,
  });
  attach(t);
  process.on('SIGINT', () => {
    console.log('\n关闭 / closing...');
    void t.close().then(() => process.exit(0));
  });

  await t.connect().catch((e: Error) => {
    console.error(`无法连接 / cannot connect to ${a.host}:${port}: ${e.message}`);
    process.exit(1);
  });
  console.log(`已连接 / connected to ${a.host}:${port} (${a.udp ? 'UDP' : 'TCP'}${a.key ? `, AES-${a.key.length * 4}` : ''}), account ${a.account}`);

  if (kind) {
    const e = EVENTS[kind];
    console.log(`报警 / alarm: ${e.label}, zone ${zone}`);
    report(await (a.sia ? t.sia(e.sia, String(zone).padStart(2, '0')) : t.cid(1, e.cid, 1, zone)));
  }
  if (nullS > 0) {
    t.on('poll', (r: SendOutcome | Error) => (r instanceof Error ? console.log(`巡检失败 / poll failed: ${r.message}`) : report(r)));
    t.startPolling(nullS * 1000);
    console.log(`每 ${nullS} 秒发送 NULL 巡检 / NULL poll every ${nullS} s; Ctrl-C to stop`);
    return;
  }
  if (!kind) report(await t.nullPoll());
  await t.close();
}

function report(r: SendOutcome): void {
  const d = r.ackSkewS === undefined ? undefined : Math.round(r.ackSkewS) || 0;
  const skew = d === undefined ? '' : `; receiver clock ${d >= 0 ? '+' : ''}${d} s from ours`;
  console.log(`#${String(r.seq).padStart(4, '0')}: ${REPLIES[r.reply]} after ${r.tries} tr${r.tries > 1 ? 'ies' : 'y'}${skew}`);
  if (r.reply !== 'ACK') process.exitCode = 1;
}

function attach(t: Dc09Transmitter): void {
  t.on('sent', (e: { seq: number; tries: number; frame: Buffer }) => console.log(`发送 / sent${e.tries > 1 ? ` (try ${e.tries})` : ''}: ${show(e.frame)}`));
  t.on('reply', (r: Reply) => console.log(`应答 / reply ${r.encrypted ? '*' : ''}${r.token}: ${show(r.raw)}${r.time ? ` (time ${r.time.toISOString()})` : ''}`));
  t.on('retry', (e: { seq: number; tries: number; after: string }) => console.log(`重发 / retrying #${String(e.seq).padStart(4, '0')} after ${e.after === 'NAK' ? 'NAK' : 'no reply'} (try ${e.tries})`));
  t.on('clock_corrected', (e: { skewS: number; changeS: number }) => console.log(`校时 / clock corrected by ${e.changeS >= 0 ? '+' : ''}${e.changeS.toFixed(1)} s (offset now ${e.skewS.toFixed(1)} s)`));
  t.on('send_failed', (e: { error: Error }) => console.log(`发送失败 / send failed: ${e.error.message}`));
  t.on('protocol_error', (e: { reason: string; frame?: Buffer }) => console.log(`协议错误 / PROTOCOL ERROR: ${e.reason}${e.frame ? ` in ${show(e.frame)}` : ''}`));
  t.on('error', (e: Error) => console.log(`socket error: ${e.message}`));
  t.on('close', () => console.log('连接已关闭 / connection closed'));
}

void main();
