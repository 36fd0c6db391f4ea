/**
 * Simulated fall sensors on the command line.
 *
 *   npm run sim:fall -- native --url mqtt://127.0.0.1:1883 --id fs-0001 --secret SECRET
 *       [--fall] [--presence on|off] [--every SECONDS]
 *   npm run sim:fall -- zigbee --url mqtt://127.0.0.1:1883 [--username z2m --password PW]
 *       --name bedroom-radar --vendor tuya|heiman|owon|ias|cube [--fall] [--presence on|off]
 *       [--prefix zigbee2mqtt] [--every SECONDS]
 *
 * native: Anxin's JSON sensor; a fall is resent until the server acknowledges it (after the alarm is committed).
 * zigbee: a Zigbee2MQTT bridge publishing the vendor's state object for one friendly name.
 * --every N keeps running, publishing a heartbeat (native) or the state again (zigbee) every N seconds; Ctrl-C stops.
 * --ca FILE trusts a private CA for mqtts:// URLs.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { VENDORS, isVendor } from './facts.js';
import { NativeFallSensor } from './native.js';
import { Zigbee2MqttBridgeSim } from './zigbee.js';

const usage = `usage: npm run sim:fall -- native --url URL --id ID --secret SECRET [--fall] [--presence on|off] [--every S] [--ca FILE]
       npm run sim:fall -- zigbee --url URL [--username U --password P] --name NAME --vendor ${Object.keys(VENDORS).join('|')}
            [--fall] [--presence on|off] [--prefix zigbee2mqtt] [--every S] [--ca FILE]`;

function fail(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

function options() {
  try {
    return parseArgs({
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
        id: { type: 'string' },
        secret: { type: 'string' },
        username: { type: 'string' },
        password: { type: 'string' },
        name: { type: 'string' },
        vendor: { type: 'string', default: 'tuya' },
        prefix: { type: 'string', default: 'zigbee2mqtt' },
        fall: { type: 'boolean', default: false },
        presence: { type: 'string', default: 'on' },
        every: { type: 'string', default: '0' },
        ca: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    fail((e as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
}

async function main(): Promise<void> {
  const { values: a, positionals } = options();
  if (a.help) return void console.log(usage);
  const mode = positionals[0];
  const every = Number(a.every);
  if (!(every >= 0)) fail(`bad --every ${a.every}`);
  if (a.presence !== 'on' && a.presence !== 'off') fail('--presence must be on or off');
  const present = a.presence === 'on';
  const ca = a.ca ? readFileSync(a.ca) : undefined;
  let repeat: () => Promise<void>;
  let close: () => Promise<void>;

  if (mode === 'native') {
    if (!a.id || !a.secret) fail('native needs --id and --secret (the mqttSecret returned when the device was registered)');
    const s = new NativeFallSensor({ url: a.url, deviceId: a.id, secret: a.secret, ca });
    s.on('server_error', (r) => console.log(`server refused a message: ${JSON.stringify(r.body)}`));
    s.on('alarm_retry', ({ attempts }: { attempts: number }) => console.log(`fall not acknowledged yet; sending it again (attempt ${attempts})`));
    s.on('close', () => console.log('connection closed'));
    await s.connect();
    console.log(`connected as ${a.id}`);
    await s.heartbeat();
    await s.status({ presence: present, occupancy: present });
    console.log(`sent heartbeat and presence ${a.presence}`);
    if (a.fall) {
      console.log('sending a fall; it is resent until the server acknowledges it');
      const r = await s.fall();
      console.log(`fall ${r.msgId} acknowledged after ${(r.ackedAt - r.sentAt).toFixed(1)} ms (${r.attempts} attempt${r.attempts > 1 ? 's' : ''})`);
    }
    repeat = () => s.heartbeat();
    close = () => s.close();
  } else if (mode === 'zigbee') {
    if (!a.name) fail('zigbee needs --name (the Zigbee2MQTT friendly name, as registered in Anxin)');
    if (!isVendor(a.vendor)) fail(`--vendor must be one of ${Object.keys(VENDORS).join(', ')}`);
    const vendor = a.vendor;
    const z = new Zigbee2MqttBridgeSim({ url: a.url, username: a.username, password: a.password, prefix: a.prefix, ca, qos: 1 });
    await z.connect();
    console.log(`connected as a Zigbee2MQTT bridge; ${VENDORS[vendor].label} (register it with model ${VENDORS[vendor].model})`);
    await z.publishVendor(a.name, vendor, { alarm: a.fall, present });
    console.log(`published ${a.prefix}/${a.name}: ${JSON.stringify(VENDORS[vendor].payload({ alarm: a.fall, present }))}`);
    repeat = () => z.publishVendor(a.name!, vendor, { alarm: a.fall, present });
    close = () => z.close();
  } else {
    fail('say native or zigbee');
  }

  if (every === 0) return close();
  const timer = setInterval(() => void repeat().catch((e: Error) => console.error(e.message)), every * 1000);
  process.on('SIGINT', () => {
    clearInterval(timer);
    void close().then(() => process.exit(0));
  });
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
