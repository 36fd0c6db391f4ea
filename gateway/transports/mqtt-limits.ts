/**
 * A maximum MQTT packet size, enforced on the wire. aedes (through mqtt-packet) would otherwise buffer a
 * packet of any declared length up to 256 MB before looking at it; this reads only each packet's fixed
 * header (type byte + 1-4 byte remaining length) and skips the body, so an oversized packet is refused
 * after its first bytes, whatever it claims to be.
 */

export class PacketSizeGuard {
  /** body bytes of the current packet still to skip */
  private skip = 0;
  /** bytes of a fixed header being read */
  private header: number[] = [];

  /** `limit` is read per packet: a bridge account may be allowed more once it has logged in. */
  constructor(private readonly limit: () => number) {}

  /** Feeds the next bytes read; returns the size of the first packet over the limit, or 0. */
  push(chunk: Buffer): number {
    let i = 0;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      this.header.push(chunk[i++]!);
      const n = this.header.length;
      if (n === 1) continue; // the type byte
      const continues = (this.header[n - 1]! & 0x80) !== 0;
      if (continues && n < 5) continue;
      if (continues) return Number.POSITIVE_INFINITY; // a fifth length byte: malformed, refuse like oversize
      let remaining = 0;
      for (let k = n - 1; k >= 1; k--) remaining = remaining * 128 + (this.header[k]! & 0x7f);
      const total = n + remaining;
      this.header = [];
      if (total > this.limit()) return total;
      this.skip = remaining;
    }
    return 0;
  }
}
