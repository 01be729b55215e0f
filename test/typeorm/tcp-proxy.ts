import { AddressInfo, createConnection, createServer, Server, Socket } from 'node:net';

/**
 * A real TCP proxy in front of a service, so a test can simulate an outage: `cut()` drops every connection
 * and refuses new ones, `stall()` keeps connections open but stops forwarding (a hung database).
 */
export interface TcpProxy {
  port: number;
  cut(): void;
  stall(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let mode: 'pass' | 'cut' | 'stall' = 'pass';
  const server: Server = createServer((client) => {
    if (mode === 'cut') return client.destroy();
    const upstream = createConnection(targetPort, targetHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('data', (d) => mode === 'pass' && upstream.write(d));
    upstream.on('data', (d) => mode === 'pass' && client.write(d));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    cut: () => {
      mode = 'cut';
      for (const s of sockets) s.destroy();
    },
    stall: () => {
      mode = 'stall';
    },
    close: async () => {
      mode = 'cut';
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
