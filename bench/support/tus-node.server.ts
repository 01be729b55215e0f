/**
 * The peer the throughput benchmark compares with: `@tus/server` 2 with `@tus/file-store` (what a NestJS app would
 * otherwise wrap), mounted at `/files` on a plain Node http server, storing in `TUS_DIR`. Its FileStore does not
 * fsync. Run as a child process; prints `listening on http://127.0.0.1:<port>`.
 */
import { createServer } from 'node:http';

// Both packages are ESM; Node >= 20.19 loads them through require(esm).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- ESM-only package, loaded with require(esm)
const { Server } = require('@tus/server') as typeof import('@tus/server');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- ESM-only package, loaded with require(esm)
const { FileStore } = require('@tus/file-store') as typeof import('@tus/file-store');

const tus = new Server({
  path: '/files',
  datastore: new FileStore({ directory: process.env.TUS_DIR ?? '/tmp/tus-bench' }),
});
const server = createServer((req, res) => void tus.handle(req, res));
server.requestTimeout = 0;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(`@tus/server listening on http://127.0.0.1:${port}`);
});
