/**
 * UDP receivers (DC-09, SCAIP): the kernel's default receive buffer (~200 KB) holds only ~100 small datagrams, since
 * each costs about 2 KB of it; while the event loop is busy the rest are dropped (the fuzz bench counted thousands in
 * RcvbufErrors). Panels resend, but an alarm should not wait for that.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { Logger } from '../log.js';

/** Receive buffer asked of the kernel for each UDP receiver (capped by net.core.rmem_max). */
export const UDP_RECV_BUFFER = 4 * 1024 * 1024;

/** Says so at start when the kernel gave less than asked: bursts beyond it are dropped. */
function warnSmallBuffer(sock: Socket, log: Logger, what: string): void {
  const got = sock.getRecvBufferSize();
  if (got < UDP_RECV_BUFFER) {
    log.info({ recvBufferBytes: got, wanted: UDP_RECV_BUFFER }, `${what} UDP receive buffer capped by net.core.rmem_max: raise it (sysctl -w net.core.rmem_max=${UDP_RECV_BUFFER}) so bursts are not dropped`);
  }
}

/**
 * A UDP receiver bound on host:port with the larger buffer; each datagram goes to `onMessage`, whose failures are
 * logged (never thrown out of the socket). Resolves once bound.
 */
export async function bindUdp(o: { host: string; port: number; what: string; log: Logger }, onMessage: (bytes: Buffer, from: RemoteInfo) => Promise<void>): Promise<Socket> {
  const sock = createSocket({ type: o.host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: UDP_RECV_BUFFER });
  sock.on('message', (m, r) => void onMessage(m, r).catch((e) => o.log.error({ err: e }, `${o.what} datagram not handled`)));
  sock.on('error', (e) => o.log.error({ err: e }, `${o.what} UDP socket error`));
  await new Promise<void>((res, rej) => {
    sock.once('error', rej);
    sock.bind(o.port, o.host, () => res());
  });
  warnSmallBuffer(sock, o.log, o.what);
  return sock;
}

/** Closes the socket, if any. */
export function closeUdp(sock: Socket | undefined): Promise<void> {
  return new Promise<void>((r) => (sock ? sock.close(() => r()) : r()));
}
