/**
 * Makes an MQTT account entry for MQTT_INTEGRATORS or ZIGBEE2MQTT_BRIDGES.
 *
 *   tsx gateway/mqtt-account-cli.ts NAME                     # a new random password
 *   printf %s "$PW" | tsx gateway/mqtt-account-cli.ts NAME --password-stdin
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

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { 'password-stdin': { type: 'boolean', default: false } }, allowPositionals: true });
  const name = positionals[0];
  if (!name || !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
    console.error('usage: tsx gateway/mqtt-account-cli.ts NAME [--password-stdin]   (NAME: 1-64 of A-Z a-z 0-9 _ . -)');
    process.exit(2);
  }
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
