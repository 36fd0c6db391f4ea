/**
 * UDP receivers (DC-09, SCAIP): the kernel's default receive buffer (~200 KB) holds only ~100 small datagrams, since
 * each costs about 2 KB of it; while the event loop is busy the rest are dropped (the fuzz bench counted thousands in
 * RcvbufErrors). Panels resend, but an alarm should not wait for that.
 */
import type { Socket } from 'node:dgram';
import type { Logger } from '../log.js';

/** Receive buffer asked of the kernel for each UDP receiver (capped by net.core.rmem_max). */
export const UDP_RECV_BUFFER = 4 * 1024 * 1024;

/** Says so at start when the kernel gave less than asked: bursts beyond it are dropped. */
export function warnSmallBuffer(sock: Socket, log: Logger, what: string): void {
  const got = sock.getRecvBufferSize();
  if (got < UDP_RECV_BUFFER) {
    log.info({ recvBufferBytes: got, wanted: UDP_RECV_BUFFER }, `${what} UDP receive buffer capped by net.core.rmem_max: raise it (sysctl -w net.core.rmem_max=${UDP_RECV_BUFFER}) so bursts are not dropped`);
  }
}
