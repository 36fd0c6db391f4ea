/**
 * Whose MQTT login this is: a device (client id = username = its identifier, its secret checked with an HMAC), an
 * integrator or a Zigbee2MQTT bridge (argon2 hashes from the settings). The embedded broker (mqtt-broker.ts) and an
 * external broker's authentication hook (http/mqtt-auth.ts) ask the same question here.
 */
import argon2 from 'argon2';
import { verifyDeviceSecret } from '../device-secrets.js';
import type { Account } from './mqtt-acl.js';

export interface AccountBook {
  integrators: Map<string, string>;
  bridges: Map<string, string>;
  /** stored hash of the device's MQTT secret (device-secrets.ts), or undefined if the device is unknown/disabled */
  deviceSecretHash(id: string): Promise<string | undefined>;
}

/** `auth`: a wrong name or password (CONNACK 4); `client_id`: a client id this account may not use (CONNACK 2). */
export type LoginCheck = Account | { refused: 'auth' | 'client_id'; code: 2 | 4 };

export async function checkLogin(book: AccountBook, clientId: string, username: string, password: string): Promise<LoginCheck> {
  const role = book.integrators.has(username) ? 'integrator' : book.bridges.has(username) ? 'bridge' : undefined;
  if (role) {
    const hash = (role === 'integrator' ? book.integrators : book.bridges).get(username)!;
    if (!(await argon2.verify(hash, password))) return { refused: 'auth', code: 4 };
    // a device's client id would let this login take over (disconnect) that device's session
    if (await book.deviceSecretHash(clientId)) return { refused: 'client_id', code: 2 };
    return { role, name: username };
  }
  if (username !== clientId) return { refused: 'client_id', code: 2 };
  const hash = await book.deviceSecretHash(username);
  if (!hash || !(await verifyDeviceSecret(hash, password))) return { refused: 'auth', code: 4 };
  return { role: 'device', name: username };
}
