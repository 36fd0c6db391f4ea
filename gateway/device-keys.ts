/**
 * Devices' symmetric keys at rest (issue 26: a DC-09 account's AES key). The panel and the gateway must both hold
 * the key, so it cannot be hashed like a device secret (device-secrets.ts): it is sealed with AES-256-GCM under the
 * gateway's own key before it reaches the database, and opened only when a frame needs it. A copy of the database
 * (a backup, a replica, a support dump) holds no usable key without the key file.
 *
 * The key file (`DEVICE_KEYS_FILE`, default DATA_DIR/device-keys.key) holds 32 random bytes as 64 hex digits. It is
 * made on first start with mode 0600. Every node of a scaled-out centre must read the same file.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { LRUCache } from 'lru-cache';

const VERSION = 'v1';

export class KeyVault {
  private constructor(private readonly master: Buffer) {
    if (master.length !== 32) throw new Error('the device-keys key is 32 bytes');
  }

  /** For tests: a vault over the given 32 bytes. */
  static of(master: Buffer): KeyVault {
    return new KeyVault(master);
  }

  /**
   * The vault over the key in `file`, made there (0600) when the file does not exist yet. A file that exists but
   * holds no key is an error to fix, never replaced: replacing it would make every stored key unreadable.
   */
  static fromFile(file: string): KeyVault {
    if (!existsSync(file)) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
      chmodSync(file, 0o600);
    }
    const text = readFileSync(file, 'utf8').trim();
    if (!/^[0-9a-fA-F]{64}$/.test(text)) throw new Error(`${file} must hold the device-keys key: 64 hex digits (32 bytes). Restore it from your backup; a new one cannot open the keys already stored.`);
    return new KeyVault(Buffer.from(text, 'hex'));
  }

  /** `v1.<iv>.<tag>.<ciphertext>` (base64url); a fresh 96-bit IV each time. */
  seal(key: Buffer): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.master, iv);
    const body = Buffer.concat([c.update(key), c.final()]);
    return [VERSION, iv.toString('base64url'), c.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
  }

  /** The key, or an error when the text was not sealed by this vault's key (another file, or altered). */
  open(sealed: string): Buffer {
    const [v, iv, tag, body] = sealed.split('.');
    if (v !== VERSION || !iv || !tag || body === undefined) throw new Error('not a sealed device key');
    const d = createDecipheriv('aes-256-gcm', this.master, Buffer.from(iv, 'base64url'));
    d.setAuthTag(Buffer.from(tag, 'base64url'));
    try {
      return Buffer.concat([d.update(Buffer.from(body, 'base64url')), d.final()]);
    } catch {
      throw new Error('a device key could not be opened: DEVICE_KEYS_FILE is not the key it was sealed with');
    }
  }
}

/**
 * The keys as the DC-09 receiver reads them: opened once and kept for `ttlMs` (a panel polling every minute does
 * not cost a query and an open each time), forgotten at once when the device changes (registry invalidation).
 */
export class DeviceKeys {
  private readonly cache: LRUCache<string, { key: Buffer | null }>;

  constructor(
    readonly vault: KeyVault,
    load: (identifier: string) => Promise<string | undefined>,
    ttlMs = 30_000,
  ) {
    this.cache = new LRUCache({
      max: 100_000,
      ttl: ttlMs,
      fetchMethod: async (identifier) => {
        const sealed = await load(identifier);
        return { key: sealed ? this.vault.open(sealed) : null };
      },
    });
  }

  /** The device's key; undefined when it has none. Rejects when the database is down or the key cannot be opened. */
  async get(identifier: string): Promise<Buffer | undefined> {
    const e = await this.cache.fetch(identifier);
    return e?.key ?? undefined;
  }

  invalidate(identifier?: string): void {
    if (identifier === undefined) this.cache.clear();
    else this.cache.delete(identifier);
  }
}
