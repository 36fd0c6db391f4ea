/** The text guard finds text PostgreSQL cannot store, and leaves raw uploads (bytes) alone. */
import { describe, expect, it } from 'vitest';
import { badTextPath } from '../../../gateway/http/text-guard.ts';

describe('badTextPath', () => {
  it('names the first string or key with a NUL or a lone surrogate', () => {
    expect(badTextPath({ a: 'ok', b: { c: 'x\u0000y' } }, 'body')).toBe('body/b/c');
    expect(badTextPath({ ['k\uD800']: 1 }, 'body')).toBe('body/k?');
    expect(badTextPath(['fine', '\uDC00'], 'body')).toBe('body/1');
    expect(badTextPath({ a: '😀 is a pair' }, 'body')).toBeUndefined();
  });

  it('does not walk a Buffer byte by byte (a photo or an import file is bytes, not text)', () => {
    // Were it walked, the own property would be found (after a million index keys); bytes are not text, so nothing is
    const photo = Object.assign(Buffer.alloc(1024 * 1024, 0), { marker: 'x\u0000' });
    expect(badTextPath(photo, 'body')).toBeUndefined();
    expect(badTextPath({ file: Object.assign(new Uint8Array(16), { marker: '\uD800' }) }, 'body')).toBeUndefined();
  });
});
