/**
 * Standalone simulated Asterisk:
 *   npm run sim:asterisk -- [--port 8088] [--host 127.0.0.1] [--directory file.json]
 *        [--user anxin] [--password anxin] [--app anxin] [--time-scale 1] [--quiet] [--exit-with-stdin]
 *
 * --exit-with-stdin: the parent keeps a pipe on our stdin and never writes to it; when the parent dies (even by
 * kill -9) the kernel closes the pipe, stdin ends and the simulator exits, so it never outlives the parent and never
 * keeps holding its port.
 */
import { parseArgs } from 'node:util';
import { loadDirectoryFile, startAsteriskSim } from './index.ts';

const USAGE = `usage: npm run sim:asterisk -- [--port 8088] [--host 127.0.0.1] [--directory file.json] [--user anxin] [--password anxin]
       [--app anxin] [--time-scale 1] [--quiet] [--exit-with-stdin]
  A simulated Asterisk (ARI over HTTP and WebSocket) for TELEPHONY=ari with ARI_URL=http://HOST:PORT;
  --app is the Stasis app injected inbound calls go to (Anxin's ARI_APP, default anxin); unset: the one app connected.`;

function parse() {
  try {
    return parseArgs({
      options: {
        port: { type: 'string', default: '8088' },
        host: { type: 'string', default: '127.0.0.1' },
        directory: { type: 'string' },
        user: { type: 'string', default: 'anxin' },
        password: { type: 'string', default: 'anxin' },
        app: { type: 'string' },
        'time-scale': { type: 'string', default: '1' },
        quiet: { type: 'boolean', default: false },
        'exit-with-stdin': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
  } catch (e) {
    console.error(`${(e as Error).message.replace(/\. To specify a positional.*$/s, '')}\n${USAGE}`);
    process.exit(2);
  }
}
const { values } = parse();

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const sim = await startAsteriskSim({
  port: Number(values.port),
  host: values.host,
  username: values.user,
  password: values.password,
  app: values.app,
  timeScale: Number(values['time-scale']),
  directory: values.directory ? loadDirectoryFile(values.directory) : undefined,
  log: values.quiet ? undefined : (line) => console.log(`[asterisk-sim] ${line}`),
});

console.log(`[asterisk-sim] SIMULATED Asterisk ARI on ${sim.ariUrl} (user ${sim.username}); control API on ${sim.url}/sim`);
console.log(`[asterisk-sim] directory: ${values.directory ?? '(none: every number answers after 1 s)'}; time scale ${sim.timeScale}`);
sim.events.on('app', (name: string, registered: boolean) => console.log(`[asterisk-sim] app ${name} ${registered ? 'registered' : 'unregistered'}`));

let stopping = false;
const shutdown = () => {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), 2000).unref(); // a hanging close must not keep the port
  void sim.stop().then(() => process.exit(0), () => process.exit(1));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
if (values['exit-with-stdin']) {
  process.stdin.on('end', shutdown);
  process.stdin.on('close', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}
