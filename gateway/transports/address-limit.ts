/**
 * Counts connections per peer IP address that have not yet proved who they are (a watch: no frame from a
 * registered device yet; MQTT: not logged in), so that one address cannot take every connection slot.
 */

/** The peer's address as one key: IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is the IPv4 address. */
export function addressKey(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

export class AddressCounter {
  private readonly counts = new Map<string, number>();

  /** `limit` per address; Infinity = no limit */
  constructor(readonly limit: number) {}

  /** True if one more connection from `address` is allowed (not counted yet). */
  allows(address: string): boolean {
    return (this.counts.get(address) ?? 0) < this.limit;
  }

  add(address: string): void {
    this.counts.set(address, (this.counts.get(address) ?? 0) + 1);
  }

  remove(address: string): void {
    const n = (this.counts.get(address) ?? 0) - 1;
    if (n > 0) this.counts.set(address, n);
    else this.counts.delete(address);
  }

  count(address: string): number {
    return this.counts.get(address) ?? 0;
  }

  /** addresses with at least one connection counted */
  get addresses(): number {
    return this.counts.size;
  }
}
