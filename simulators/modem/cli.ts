/**
 * Simulated GSM modem (短信猫) on the command line.
 *
 *   npm run sim:modem -- (--port PATH | --pty) [--inbound FROM:TEXT] [--inbound-after-ms 3000]
 *       [--report-status HEX] [--send-delay-ms N] [--fail-sends N [--cms N]] [--interleave-urcs]
 *
 * --pty makes a socat pty pair and prints the end to give the gateway (SMS_MODEM_PATH or the like). The modem
 * answers AT commands in PDU mode, takes AT+CMGS sends (reassembling concatenated parts), pushes +CDS status
 * reports, and with --inbound stores a message and announces it with +CMTI. Sends are printed as counts and
 * lengths (numbers and texts are personal data). Ctrl-C stops it.
 */
import { parseArgs } from 'node:util';
import { createPtyPair, type PtyPair } from '../alarm-receiver/pty.ts';
import { SimulatedModem } from './modem.ts';

const usage = `usage: npm run sim:modem -- (--port PATH | --pty) [--inbound FROM:TEXT] [--inbound-after-ms N]
       [--report-status HEX] [--send-delay-ms N] [--fail-sends N [--cms N]] [--interleave-urcs]`;

function fail(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

function say(text: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 23)}  ${text}\n`);
}

const state: { sim?: SimulatedModem; pty?: PtyPair } = {};

async function main(): Promise<void> {
  let a;
  try {
    a = parseArgs({
      options: {
        port: { type: 'string' },
        pty: { type: 'boolean', default: false },
        inbound: { type: 'string' },
        'inbound-after-ms': { type: 'string', default: '3000' },
        'report-status': { type: 'string', default: '00' },
        'send-delay-ms': { type: 'string', default: '500' },
        'fail-sends': { type: 'string', default: '0' },
        cms: { type: 'string', default: '500' },
        'interleave-urcs': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    fail((e as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
  if (a.help) return void console.log(usage);
  if (!a.port && !a.pty) fail('--port PATH or --pty is needed');
  const num = (v: string, name: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) fail(`--${name} wants a whole number, got ${JSON.stringify(v)}`);
    return n;
  };
  const st = parseInt(a['report-status'], 16);
  if (!/^[0-9a-f]{1,2}$/i.test(a['report-status'])) fail('--report-status wants a TP-ST in hex, e.g. 00, 46, 62');
  const inbound = a.inbound ? /^(\+?\d{3,20}):(.+)$/s.exec(a.inbound) : undefined;
  if (a.inbound && !inbound) fail('--inbound wants FROM:TEXT, e.g. +8613912345678:1');
  const sendDelayMs = num(a['send-delay-ms'], 'send-delay-ms');
  const failSends = num(a['fail-sends'], 'fail-sends');
  const cms = num(a.cms, 'cms');
  const inboundAfter = num(a['inbound-after-ms'], 'inbound-after-ms');

  let path = a.port;
  if (a.pty) {
    state.pty = await createPtyPair();
    path = state.pty.a;
    say(`created a pty pair with socat (pid ${state.pty.pid}); point the gateway's modem setting at ${state.pty.b}`);
  }
  const sim = new SimulatedModem({ path: path!, reportStatus: st, sendDelayMs });
  state.sim = sim;
  sim.failNextSends(failSends, cms);
  sim.interleaveUrcs(a['interleave-urcs']);
  sim.on('command', (c: string) => say(`< ${c.replace(/^(AT\+CMGS=)\d+$/i, '$1n')}`));
  sim.on('submit', (s: { concat?: { seq: number; total: number } }) => say(`SMS-SUBMIT accepted${s.concat ? ` (part ${s.concat.seq}/${s.concat.total})` : ''}`));
  sim.on('message', (m: { text: string; parts: number }) => say(`message complete: ${m.text.length} characters in ${m.parts} part(s)`));
  await sim.open();
  say(`modem answering on ${path}`);
  if (inbound) {
    setTimeout(() => say(`inbound message stored in ${sim.injectInbound(inbound[1]!, inbound[2]!).length} slot(s)`), inboundAfter);
  }
}

async function stop(code: number): Promise<void> {
  await state.sim?.close().catch(() => undefined);
  await state.pty?.close().catch(() => undefined);
  process.exit(code);
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
main().catch((e: unknown) => {
  console.error(`modem simulator: ${e instanceof Error ? e.message : String(e)}`);
  void stop(1);
});
