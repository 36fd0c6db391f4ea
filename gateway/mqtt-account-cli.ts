/**
 * Makes an MQTT account entry for MQTT_INTEGRATORS or ZIGBEE2MQTT_BRIDGES.
 *
 *   npm run mqtt-account -- NAME                              # a new random password
 *   printf %s "$PW" | npm run mqtt-account -- NAME --password-stdin
 *
 * Prints the password (give it to the integrator or put it in Zigbee2MQTT's mqtt.password) and the
 * `NAME:argon2hash` entry; only the hash goes into Anxin's configuration.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import argon2 from 'argon2';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

const USAGE = `usage: npm run mqtt-account -- NAME [--password-stdin]
       (or: npx tsx gateway/mqtt-account-cli.ts NAME [--password-stdin])
  Makes an account entry for MQTT_INTEGRATORS or ZIGBEE2MQTT_BRIDGES: prints a new random password (unless
  --password-stdin reads one, at least 12 characters) and the NAME:argon2hash entry. NAME: 1-64 of A-Z a-z 0-9 _ . -
  The hash contains $: single-quote the entry in a shell, e.g. MQTT_INTEGRATORS='city:$argon2id$v=19$…'`;

function usageError(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ options: { 'password-stdin': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } }, allowPositionals: true, strict: true });
  } catch (e) {
    usageError((e as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const name = positionals[0];
  if (positionals.length > 1) usageError(`one NAME only, got ${positionals.length}`);
  if (!name || !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) usageError(name ? `bad NAME ${JSON.stringify(name)}` : 'NAME is missing');
  const password = values['password-stdin'] ? await readStdin() : randomBytes(18).toString('base64url');
  if (password.length < 12) {
    console.error('the password must be at least 12 characters');
    process.exit(2);
  }
  const hash = await argon2.hash(password, { type: argon2.argon2id });
  if (!values['password-stdin']) console.log(`password: ${password}`);
  console.log(`entry:    ${name}:${hash}`);
}

void main();
