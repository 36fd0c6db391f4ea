/**
 * MQTT device secrets. A secret is 144 random bits, so it needs no stretching to resist guessing: it is kept as an
 * HMAC-SHA-256 under a per-device random salt (`hmac-sha256$<salt>$<mac>`, base64url) and checked in microseconds,
 * so a flood of bad passwords costs the broker next to nothing (issue 15: argon2 at ~7 ms a try kept a core busy).
 * Human passwords stay argon2id (passwords.ts). Hashes made before this (`$argon2…`) still verify.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import argon2 from 'argon2';

const PREFIX = 'hmac-sha256$';

export function newDeviceSecret(): string {
  return randomBytes(18).toString('base64url');
}

export function hashDeviceSecret(secret: string): string {
  const salt = randomBytes(16);
  return `${PREFIX}${salt.toString('base64url')}$${createHmac('sha256', salt).update(secret).digest('base64url')}`;
}

export async function verifyDeviceSecret(stored: string, secret: string): Promise<boolean> {
  if (stored.startsWith(PREFIX)) {
    const [salt, mac] = stored.slice(PREFIX.length).split('$');
    if (!salt || !mac) return false;
    const want = Buffer.from(mac, 'base64url');
    const got = createHmac('sha256', Buffer.from(salt, 'base64url')).update(secret).digest();
    return want.length === got.length && timingSafeEqual(want, got);
  }
  if (stored.startsWith('$argon2')) return argon2.verify(stored, secret).catch(() => false);
  return false;
}
