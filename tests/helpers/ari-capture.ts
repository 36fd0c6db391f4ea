/**
 * Captures the event sequences of the scenarios in ari-scenarios.ts from one target and prints them as
 * markdown (normalised: ids named, timestamps and the Asterisk id replaced).
 *
 *   TEST_ARI_URL=http://127.0.0.1:18088 npx tsx tests/helpers/ari-capture.ts [--json] [scenario-name-part…] > /tmp/ari-captures.md
 *   npx tsx tests/helpers/ari-capture.ts --sim …      (the simulator instead)
 *   --sipp=<scenario.xml>:<port>   also a busy over PJSIP, to a SIPp UAS started here on 127.0.0.1:<port>
 */
import { Recorder, normalise } from './ari-record.ts';
import { spawn } from 'node:child_process';
import { SCENARIOS, busyPjsip, uid, type Scenario } from './ari-scenarios.ts';
import { targets } from './ari-target.ts';
import { CONTROL_SCENARIOS } from './ari-scenarios-controls.ts';

const args = process.argv.slice(2);
const useSim = args.includes('--sim');
const json = args.includes('--json');
const filter = args.filter((a) => !a.startsWith('--'));
const sipp = args.find((a) => a.startsWith('--sipp='))?.slice('--sipp='.length);
const scenarios: Scenario[] = [...SCENARIOS, ...CONTROL_SCENARIOS];
if (sipp) scenarios.push(busyPjsip(Number(sipp.split(':')[1])));

const target = targets().find((t) => t.name === (useSim ? 'sim' : 'asterisk'));
if (!target) throw new Error('set TEST_ARI_URL (or pass --sim)');
const env = await target.start();
const out: string[] = [`# ARI event sequences from ${env.name === 'sim' ? 'the simulator' : `a real Asterisk (${env.url})`}`, ''];
for (const sc of scenarios.filter((s) => !filter.length || filter.some((f) => s.name.includes(f)))) {
  const release = sc.inbound ? await env.lockInbound() : () => undefined;
  const app = sc.inbound ? env.inboundApp : uid('capture');
  const rec = await Recorder.open(env.url, env.username, env.password, app);
  const [xml, port] = sipp?.split(':') ?? [];
  const uas = sc.name.includes('PJSIP') ? spawn('sipp', ['-sf', String(xml), '-i', '127.0.0.1', '-p', String(port), '-m', '1', '-nostdin'], { stdio: 'ignore' }) : undefined;
  if (uas) await new Promise((r) => setTimeout(r, 500));
  try {
    const preset = await sc.run(rec, env, app);
    const n = normalise(rec.log, preset);
    out.push(`## ${sc.name}`, '', '```', ...n.lines, '```', '');
    if (json) out.push('<details><summary>events</summary>', '', '```json', ...n.events.map((e) => JSON.stringify(e)), '```', '</details>', '');
  } catch (err) {
    const n = normalise(rec.log);
    out.push(`## ${sc.name} (FAILED: ${(err as Error).message})`, '', '```', ...n.lines, '```', '');
  } finally {
    await rec.close();
    uas?.kill();
    release();
  }
}
await env.stop();
console.log(out.join('\n'));
