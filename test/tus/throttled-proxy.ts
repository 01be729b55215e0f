import { AddressInfo, createConnection, createServer, Server, Socket } from 'node:net';

/** A TCP proxy that slows client → server bytes down, so a test can act while a request body is in flight. */
export interface ThrottledProxy {
  /** `http://127.0.0.1:<port>` of the proxy. */
  origin: string;
  close(): Promise<void>;
}

/**
 * Forward every connection to `127.0.0.1:targetPort`, passing at most `bytesPerSecond` from the client per
 * connection (with backpressure: the client socket is paused, so the client's own progress follows what the
 * server really received). Answers go back untouched. A target that is down closes the client connection, as
 * a server that is restarting would. Ends (never destroys) the other side so answers in flight still arrive.
 */
export async function startThrottledProxy(targetPort: number, bytesPerSecond: number): Promise<ThrottledProxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('data', (data: Buffer) => {
      client.pause();
      upstream.write(data);
      const timer = setTimeout(() => client.resume(), Math.ceil((data.length / bytesPerSecond) * 1000));
      timer.unref();
    });
    upstream.on('data', (data: Buffer) => client.write(data));
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => {
      // Let what was already written reach the client, then close it.
      client.end();
      setTimeout(() => client.destroy(), 200).unref();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
