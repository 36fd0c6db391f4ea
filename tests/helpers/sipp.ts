/**
 * SIPp (Debian `sip-tester`) for the telephony tests against a real Asterisk: is it installed, where do the
 * Asterisk config files say PJSIP listens and where the `trunk` sends its INVITEs, and running a scenario from
 * tests/sipp/ as a child process (its message and error traces go to a temp dir, for debugging and asserts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SIPP_SCENARIOS = join(dirname(fileURLToPath(import.meta.url)), '..', 'sipp');

/** True when `sipp` is on PATH and runs. */
export function sippInstalled(): boolean {
  const r = spawnSync('sipp', ['-v'], { encoding: 'utf8' });
  return !r.error && /SIPp v\d/.test(`${r.stdout}${r.stderr}`);
}

export interface AsteriskSip {
  /** Where Asterisk's PJSIP UDP transport listens (`bind =` of the transport). */
  pjsip: { host: string; port: number };
  /** Where `PJSIP/{number}@trunk` sends its INVITEs (the `trunk` aor's contact): the SIPp UAS binds here. */
  trunk: { host: string; port: number };
}

type Section = { name: string; keys: Map<string, string> };

function sections(text: string): Section[] {
  const out: Section[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/;.*$/, '').trim();
    if (!line || line.startsWith('#')) continue;
    const head = /^\[([^\]]+)\]/.exec(line);
    if (head) out.push({ name: head[1]!, keys: new Map() });
    else {
      const kv = /^([\w-]+)\s*=>?\s*(.*)$/.exec(line);
      if (kv && out.length) out[out.length - 1]!.keys.set(kv[1]!, kv[2]!);
    }
  }
  return out;
}

function hostPort(s: string, what: string): { host: string; port: number } {
  const m = /^(?:sips?:)?(?:[^@]*@)?([\w.-]+):(\d+)/.exec(s.trim());
  if (!m) throw new Error(`pjsip.conf: cannot read host:port from ${what} "${s}"`);
  return { host: m[1]!, port: Number(m[2]) };
}

/** Reads DIR/etc/pjsip.conf as ../shared/asterisk/start.sh writes it (PJSIP_PORT, SIPP_PORT). */
export function asteriskSip(asteriskDir: string): AsteriskSip {
  const file = join(asteriskDir, 'etc', 'pjsip.conf');
  const secs = sections(readFileSync(file, 'utf8'));
  const transport = secs.find((s) => s.keys.get('type') === 'transport' && s.keys.get('protocol') === 'udp' && s.keys.has('bind'));
  if (!transport) throw new Error(`${file}: no UDP transport with a bind line`);
  const aor = secs.find((s) => s.name === 'trunk' && s.keys.get('type') === 'aor' && s.keys.has('contact'));
  if (!aor) throw new Error(`${file}: no [trunk] aor with a contact`);
  return { pjsip: hostPort(transport.keys.get('bind')!, 'bind'), trunk: hostPort(aor.keys.get('contact')!, 'the trunk contact') };
}

function udpFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, host, () => s.close(() => resolve(true)));
  });
}

/** A UDP port p with p..p+3 free (SIPp's -mp uses p and p+2 for audio/video RTP; RTCP is p+1/p+3). */
export async function freeUdpPorts(host = '127.0.0.1', from = 20000, to = 29990): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const p = from + 2 * Math.floor((Math.random() * (to - from)) / 2);
    const ok = await Promise.all([0, 1, 2, 3].map((d) => udpFree(p + d, host)));
    if (ok.every(Boolean)) return p;
  }
  throw new Error(`no free UDP ports in ${from}-${to}`);
}

export interface SippRun {
  proc: ChildProcess;
  /** Temp dir with the traces: messages.log (every SIP message, -trace_msg), errors.log (-trace_err). */
  dir: string;
  /** Resolves with the exit code (null when killed) and SIPp's stderr. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  /** Every SIP message sent and received so far. */
  messages(): string;
  /** Unexpected messages and aborted calls so far ('' when none). */
  errors(): string;
  /** SIGTERM, then SIGKILL after 2 s; resolves when it has exited. */
  stop(): Promise<void>;
  /** Removes the trace dir (call it once the traces are no longer wanted, i.e. after a pass). */
  removeTraces(): void;
}

/**
 * Runs `sipp [remote] -sf tests/sipp/<scenario> <args>` in the foreground (no -bg: the child is ours to kill),
 * with -nostdin, a free control port, and message/error traces in a temp dir.
 */
export async function runSipp(scenario: string, args: string[], remote?: string): Promise<SippRun> {
  const dir = mkdtempSync(join(tmpdir(), 'anxin-sipp-'));
  const messagesFile = join(dir, 'messages.log');
  const errorsFile = join(dir, 'errors.log');
  const controlPort = await freeUdpPorts('127.0.0.1', 30000, 39990);
  const argv = [
    ...(remote ? [remote] : []),
    '-sf',
    join(SIPP_SCENARIOS, scenario),
    ...args,
    '-nostdin',
    '-cp',
    String(controlPort),
    '-trace_msg',
    '-message_file',
    messagesFile,
    '-trace_err',
    '-error_file',
    errorsFile,
  ];
  const proc = spawn('sipp', argv, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += String(d)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    proc.once('error', (err) => resolve({ code: -1, signal: null, stderr: `${stderr}${err.message}` }));
    proc.once('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
  const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');
  return {
    proc,
    dir,
    exited,
    messages: () => read(messagesFile),
    errors: () => read(errorsFile),
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(t);
    },
    removeTraces: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Resolves once `host:port` is bound by someone (SIPp is listening). */
export async function waitUdpBound(port: number, host = '127.0.0.1', timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (await udpFree(port, host)) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`nothing bound UDP ${host}:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
