/**
 * A TCP proxy whose path can be dropped silently (issue 17 item 7): `freeze()` makes every connection, open or
 * new, a black hole (bytes are read and thrown away both ways, nothing is closed), the way a NAT timeout or a
 * pulled cable looks to both ends. `unfreeze()` lets new connections through again; the frozen ones stay dead.
 * Being plain TCP it passes HTTP, the WebSocket upgrade and ping/pong through untouched.
 */
import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  url: string;
  freeze(): void;
  unfreeze(): void;
  /** Connections opened through the proxy so far. */
  connections(): number;
  close(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const t = new URL(target);
  let frozen = false;
  let opened = 0;
  const pairs = new Set<{ a: Socket; b: Socket; dead: boolean }>();
  const server = createServer((a) => {
    opened++;
    const b = connect(Number(t.port), t.hostname);
    const p = { a, b, dead: frozen };
    pairs.add(p);
    a.on('data', (d) => void (p.dead || b.write(d)));
    b.on('data', (d) => void (p.dead || a.write(d)));
    const end = () => {
      pairs.delete(p);
      a.destroy();
      b.destroy();
    };
    // A closed end is passed on only while the path is alive: a dead path never tells either side.
    a.on('close', () => (p.dead ? (pairs.delete(p), b.destroy()) : end()));
    b.on('close', () => (p.dead ? undefined : end()));
    a.on('error', () => {});
    b.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    freeze() {
      frozen = true;
      for (const p of pairs) p.dead = true;
    },
    unfreeze() {
      frozen = false;
    },
    connections: () => opened,
    async close() {
      for (const p of pairs) {
        p.a.destroy();
        p.b.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
