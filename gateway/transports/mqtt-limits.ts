/**
 * A maximum MQTT packet size, enforced on the wire. aedes (through mqtt-packet) would otherwise buffer a
 * packet of any declared length up to 256 MB before looking at it; this reads only each packet's fixed
 * header (type byte + 1-4 byte remaining length) and skips the body, so an oversized packet is refused
 * after its first bytes, whatever it claims to be.
 */

export class PacketSizeGuard {
  /** body bytes of the current packet still to skip */
  private skip = 0;
  /** bytes of the fixed header read so far (the type byte, then up to 4 length bytes); 0 between packets */
  private headerBytes = 0;
  /** the remaining length read so far, 7 bits a byte, low first */
  private remaining = 0;
  private scale = 1;

  /** `limit` is read per packet: a bridge account may be allowed more once it has logged in. */
  constructor(private readonly limit: () => number) {}

  /** Feeds the next bytes read; returns the size of the first packet over the limit, or 0. */
  push(chunk: Buffer): number {
    const len = chunk.length;
    let i = 0;
    while (i < len) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, len - i);
        this.skip -= n;
        i += n;
        continue;
      }
      const byte = chunk[i++]!;
      const n = ++this.headerBytes;
      if (n === 1) continue; // the type byte
      this.remaining += (byte & 0x7f) * this.scale;
      this.scale *= 128;
      if ((byte & 0x80) !== 0) {
        if (n < 5) continue;
        return Number.POSITIVE_INFINITY; // a fifth length byte: malformed, refuse like oversize
      }
      const remaining = this.remaining;
      const total = n + remaining;
      this.headerBytes = 0;
      this.remaining = 0;
      this.scale = 1;
      if (total > this.limit()) return total;
      this.skip = remaining;
    }
    return 0;
  }
}
