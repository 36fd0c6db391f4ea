/**
 * Simulated alarm receiver (Sur-Gard MLR2 style) on a serial port.
 *
 *   npm run sim:receiver -- --port /dev/pts/N [options]
 *   npm run sim:receiver -- --pty [options]        (makes a pty pair with socat; open the printed end)
 *
 * Events (sent in this order, each waiting for its ACK):
 *   --pendant ACCOUNT     personal emergency E101 from ACCOUNT (zone 001)
 *   --restore             after --pendant (or --fall), the restore R101 (R102)
 *   --fall ACCOUNT        E102 ("Fall Detected" on Climax/Vesta panels; "fail to report" in plain DC-05)
 *   --test                periodic test E602, group 00 zone 000 (account: --test-account, else --pendant/--fall, else 1234)
 *   --event Q:CODE:ACCOUNT[:GROUP[:ZONE]]   any event, e.g. E:301:1234:01:001 (repeatable)
 *   --corrupt             send the first event corrupted once (the automation side should NAK it)
 *
 * Link settings:
 *   --baud 19200 --data-bits 7 --parity even --stop-bits 1   (MLR2E defaults; MLR2000 is 9600 8N1)
 *   --form mlr2|sg  --receiver 01  --line 1  --line-width 3
 *   --heartbeat-ms 30000  --ack-timeout-ms 4000  --retransmits 3
 *   --stay                keep running (heartbeats) after the events; Ctrl-C to stop
 *
 * With no event options it just sends heartbeats until Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { createPtyPair, type PtyPair } from './pty.ts';
import { SimulatedReceiver, type Qualifier, type ReceiverEventInput, type SimRecord } from './receiver.ts';

const USAGE = `usage: npm run sim:receiver -- (--port PATH | --pty) [--pendant ACCOUNT] [--fall ACCOUNT] [--restore] [--test [--test-account ACCOUNT]]
       [--event Q:CODE:ACCOUNT[:GROUP[:ZONE]]]... [--corrupt] [--form mlr2|sg] [--receiver RR] [--line L] [--line-width N]
       [--baud N] [--data-bits 7|8] [--parity none|even|odd] [--stop-bits 1|2] [--heartbeat-ms N] [--ack-timeout-ms N]
       [--retransmits N] [--stay]`;

const CODE_WORDS: Record<string, string> = {
  '100': 'medical alarm',
  '101': 'personal emergency (pendant)',
  '102': 'fall detected (Climax) / fail to report',
  '110': 'fire',
  '111': 'smoke',
  '151': 'gas',
  '162': 'carbon monoxide',
  '301': 'mains power lost',
  '302': 'low system battery',
  '384': 'low battery (RF)',
  '602': 'periodic test',
  '654': 'inactivity',
};
const Q_WORDS: Record<Qualifier, string> = { E: 'new', R: 'restore of', P: 'still present:' };

function describe(ev: ReceiverEventInput): string {
  const code = String(ev.code).padStart(3, '0');
  return `${Q_WORDS[ev.qualifier]} ${CODE_WORDS[code] ?? `code ${code}`} (${ev.qualifier}${code}) from account ${ev.account}`;
}

function show(line: string | undefined): string {
  if (line === undefined) return '';
  return JSON.stringify(line).replace(/\\u0014/g, '<DC4>');
}

function say(text: string): void {
  const t = new Date().toISOString().slice(11, 23);
  process.stdout.write(`${t}  ${text}\n`);
}

function narrate(r: SimRecord): void {
  const what = r.packet === 'heartbeat' ? 'heartbeat' : r.packet === 'raw' ? 'raw packet' : `event #${r.id}`;
  switch (r.type) {
    case 'open':
      return say(`opened ${r.detail}`);
    case 'tx':
      return say(
        `sent ${what}${r.attempt && r.attempt > 1 ? ` again (transmission ${r.attempt})` : ''}${r.corrupted ? ' — deliberately CORRUPTED' : ''}: ${show(r.data)}`,
      );
    case 'ack':
      return say(`the automation software acknowledged the ${what} (ACK)`);
    case 'nak':
      return say(`the automation software rejected the ${what} (NAK); retransmitting`);
    case 'timeout':
      return say(`no answer to the ${what} in time`);
    case 'gave_up':
      return say(`gave up on the ${what}: ${r.detail}`);
    case 'offline':
      return say(`link considered down: ${r.detail}`);
    case 'online':
      return say(`link back up: ${r.detail}`);
    case 'rx':
      return say(`received unexpected byte 0x${r.data} (${r.detail})`);
    case 'dropped':
      return say(`dropped ${show(r.data)}: ${r.detail}`);
    case 'error':
      return say(`error: ${r.detail}`);
    case 'close':
      return say('port closed');
  }
}

function parseEventSpec(spec: string): ReceiverEventInput {
  const [q, code, account, group, zone] = spec.split(':');
  if (!q || !code || !account || !['E', 'R', 'P'].includes(q.toUpperCase())) {
    throw new Error(`--event wants Q:CODE:ACCOUNT[:GROUP[:ZONE]], e.g. E:101:1234:01:001 — got ${JSON.stringify(spec)}`);
  }
  return { qualifier: q.toUpperCase() as Qualifier, code, account, group: group ?? '01', zone: zone ?? '001' };
}

/** What must be cleaned up on exit: the port, and socat when we started it. */
const state: { sim?: SimulatedReceiver; pty?: PtyPair; stopping: boolean } = { stopping: false };

async function shutdown(code: number): Promise<void> {
  if (state.stopping) return;
  state.stopping = true;
  await state.sim?.close().catch(() => undefined);
  await state.pty?.close().catch(() => undefined);
  process.exit(code);
}

async function main(): Promise<number> {
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        port: { type: 'string' },
        pty: { type: 'boolean' },
        pendant: { type: 'string' },
        fall: { type: 'string' },
        restore: { type: 'boolean' },
        test: { type: 'boolean' },
        'test-account': { type: 'string' },
        event: { type: 'string', multiple: true },
        corrupt: { type: 'boolean' },
        form: { type: 'string' },
        receiver: { type: 'string' },
        line: { type: 'string' },
        'line-width': { type: 'string' },
        baud: { type: 'string' },
        'data-bits': { type: 'string' },
        parity: { type: 'string' },
        'stop-bits': { type: 'string' },
        'heartbeat-ms': { type: 'string' },
        'ack-timeout-ms': { type: 'string' },
        retransmits: { type: 'string' },
        stay: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
      strict: true,
    });
  } catch (e) {
    process.stderr.write(`${(e as Error).message.replace(/\. To specify a positional.*$/s, '')}\n${USAGE}\n`);
    return 2;
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (!values.port && !values.pty) {
    process.stderr.write(`--port PATH or --pty is needed\n${USAGE}\n`);
    return 2;
  }

  const num = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} wants a number, got ${JSON.stringify(v)}`);
    return n;
  };

  const events: { ev: ReceiverEventInput }[] = [];
  const primary = values.pendant ?? values.fall;
  if (values.pendant) events.push({ ev: { account: values.pendant, qualifier: 'E', code: '101', group: '01', zone: '001' } });
  if (values.fall) events.push({ ev: { account: values.fall, qualifier: 'E', code: '102', group: '01', zone: '001' } });
  if (values.restore) {
    if (!primary) throw new Error('--restore needs --pendant ACCOUNT or --fall ACCOUNT');
    events.push({ ev: { account: primary, qualifier: 'R', code: values.pendant ? '101' : '102', group: '01', zone: '001' } });
  }
  if (values.test) events.push({ ev: { account: values['test-account'] ?? primary ?? '1234', qualifier: 'E', code: '602', group: '00', zone: '000' } });
  for (const spec of values.event ?? []) events.push({ ev: parseEventSpec(spec) });

  let path = values.port;
  if (values.pty) {
    const pty = await createPtyPair();
    state.pty = pty;
    path = pty.a;
    say(`created a pty pair with socat (pid ${pty.pid}): the receiver uses ${pty.a}${pty.devices[0] ? ` (${pty.devices[0]})` : ''}`);
    say(`point the automation software (the gateway's serial transport) at ${pty.b}${pty.devices[1] ? ` (${pty.devices[1]})` : ''}`);
  }

  const form = values.form === 'sg' ? 'sg' : values.form === undefined || values.form === 'mlr2' ? 'mlr2' : undefined;
  if (!form) throw new Error(`--form is mlr2 or sg, got ${JSON.stringify(values.form)}`);
  const parity = values.parity ?? 'even';
  if (!['none', 'even', 'odd', 'mark', 'space'].includes(parity)) throw new Error(`--parity is none, even or odd`);

  const sim = new SimulatedReceiver({
    path: path!,
    form,
    ...(values.receiver ? { receiver: values.receiver } : {}),
    ...(values.line ? { line: values.line } : {}),
    ...(values['line-width'] ? { lineWidth: num(values['line-width'], 'line-width')! } : {}),
    baudRate: num(values.baud, 'baud') ?? 19200,
    dataBits: (num(values['data-bits'], 'data-bits') ?? 7) as 5 | 6 | 7 | 8,
    parity: parity as 'none' | 'even' | 'odd',
    stopBits: (num(values['stop-bits'], 'stop-bits') ?? 1) as 1 | 2,
    heartbeatMs: num(values['heartbeat-ms'], 'heartbeat-ms') ?? 30_000,
    ackTimeoutMs: num(values['ack-timeout-ms'], 'ack-timeout-ms') ?? 4000,
    retransmits: num(values.retransmits, 'retransmits') ?? 3,
  });
  sim.on('record', narrate);

  state.sim = sim;
  await sim.open();
  if (state.pty) {
    say('waiting 2 s for the automation side to open its end...');
    await new Promise((r) => setTimeout(r, 2000));
  }

  for (const [i, { ev }] of events.entries()) {
    say(`sending ${describe(ev)}`);
    const r = await sim.sendEvent(ev, i === 0 && values.corrupt ? { corruptFirst: 'garble' } : {});
    say(
      `done: ${describe(ev)} acknowledged ${r.ackedAt.getTime() - r.sentAt.getTime()} ms after the first transmission, ` +
        `${r.attempts} transmission${r.attempts === 1 ? '' : 's'}`,
    );
  }

  if (events.length > 0 && !values.stay) {
    await shutdown(0);
    return 0;
  }
  say(`sending heartbeats every ${sim.options.heartbeatMs} ms; Ctrl-C to stop`);
  return new Promise<number>(() => undefined);
}

main().then((code) => {
  process.exitCode = code;
}, (err: unknown) => {
  // a pending send rejected by our own shutdown is not an error
  if (state.stopping) return;
  process.stderr.write(`alarm receiver simulator: ${err instanceof Error ? err.message : String(err)}\n`);
  void shutdown(1);
});
