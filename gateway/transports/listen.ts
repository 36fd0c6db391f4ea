/**
 * Connections the kernel may hold for a device server before they are accepted (capped by net.core.somaxconn).
 * Node's default, 511, overflowed in the bench's reconnect storms: each SYN dropped costs the device a retransmission
 * 1, 3 or 7 s later, and an alarm it resends after logging in again waits for that (issue 25).
 */
export const LISTEN_BACKLOG = 4096;
