/**
 * The network + HTTP parser limit of the throughput benchmark: `PUT /raw/<name>?offset=<n>` (the raw pipe's
 * protocol) reads the request body and drops it, then answers 204 if it received exactly Content-Length bytes
 * (400 otherwise). Nothing touches storage, so no upload server on this machine can be faster.
 *
 * Run as a child process; prints `listening on http://127.0.0.1:<port>`.
 */
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  if (req.method !== 'PUT' || !/^\/raw\/[A-Za-z0-9._-]+\?offset=\d+$/.test(req.url ?? '')) {
    res.writeHead(404).end();
    return;
  }
  let received = 0;
  req.on('data', (piece: Buffer) => void (received += piece.length));
  req.on('end', () => res.writeHead(received === Number(req.headers['content-length']) ? 204 : 400).end());
  req.on('error', () => res.destroy());
});
server.requestTimeout = 0;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(`sink listening on http://127.0.0.1:${port}`);
});
