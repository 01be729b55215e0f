import { createServer, request, Server } from 'node:http';
import { connect as connectHttp2, createServer as createHttp2Server } from 'node:http2';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { HttpExchange } from '../../src/http/http-exchange';
import { sendUploadResumption } from '../../src/http/rufh/rufh-interim';

/** A plain node:http server whose handler sends one 104 (recording whether it went out) and then answers. */
async function serve(
  headers: Record<string, string | number>,
  before?: (res: import('node:http').ServerResponse) => void,
): Promise<{ server: Server; port: number; sent: boolean[] }> {
  const sent: boolean[] = [];
  const server = createServer((req, res) => {
    before?.(res);
    sent.push(sendUploadResumption(new HttpExchange(req, res), headers));
    req.resume();
    req.on('end', () => res.end('final'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, sent };
}

/** Raw bytes the server writes back for `requestText`, until it closes the connection. */
function rawExchange(port: number, requestText: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(requestText));
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
  });
}

describe('104 Upload Resumption Supported on a Node 20 HTTP server (sendUploadResumption)', () => {
  const servers: Server[] = [];
  afterAll(async () => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));

  it('HTTP/1.1: one interim response with the headers, then the final response intact', async () => {
    const { server, port } = await serve({ Location: '/files/abc', 'Upload-Draft-Interop-Version': 8 });
    servers.push(server);
    const raw = await rawExchange(
      port,
      'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi',
    );
    expect(raw).toMatch(
      /^HTTP\/1\.1 104 Upload Resumption Supported\r\nLocation: \/files\/abc\r\nUpload-Draft-Interop-Version: 8\r\n\r\nHTTP\/1\.1 200 OK\r\n/,
    );
    expect(raw.endsWith('final')).toBe(true);
  });

  it('Expect: 100-continue is still answered with 100 first; node:http clients see 100, then 104', async () => {
    const { server, port } = await serve({ Location: '/files/abc' });
    servers.push(server);
    const seen: number[] = [];
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ port, host: '127.0.0.1', method: 'POST', path: '/x', headers: { Expect: '100-continue' } });
      req.on('information', (info) => seen.push(info.statusCode));
      req.on('continue', () => req.end('body'));
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
    });
    expect(status).toBe(200);
    expect(seen).toEqual([100, 104]);
  });

  it('not to HTTP/1.0 clients (RFC 9110 §15.2), not after the final response started, never with CR/LF', async () => {
    const plain = await serve({ Location: '/files/abc' });
    servers.push(plain.server);
    const raw = await rawExchange(plain.port, 'POST /x HTTP/1.0\r\nContent-Length: 0\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(plain.sent).toEqual([false]);

    const started = await serve({ Location: '/files/abc' }, (res) => res.writeHead(200));
    servers.push(started.server);
    const after = await rawExchange(started.port, 'GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    expect(after).not.toContain(' 104 ');
    expect(started.sent).toEqual([false]);

    const injected = await serve({ Location: '/files/abc\r\nX-Evil: 1' });
    servers.push(injected.server);
    const clean = await rawExchange(injected.port, 'GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    expect(clean).not.toContain('X-Evil');
    expect(injected.sent).toEqual([false]);
  });

  it('HTTP/2: sent as an extra header block with :status 104 before the final response', async () => {
    const server = createHttp2Server((req, res) => {
      sendUploadResumption(new HttpExchange(req, res), { Location: '/files/abc' });
      res.end('final');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = connectHttp2(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      const stream = client.request({ ':path': '/x', ':method': 'POST' });
      const interim: unknown[] = [];
      stream.on('headers', (headers) => interim.push({ ...headers }));
      let body = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => (body += d));
      await new Promise((resolve) => stream.on('end', resolve).end('x'));
      expect(interim).toHaveLength(1);
      expect(interim[0]).toMatchObject({ ':status': 104, location: '/files/abc' });
      expect(body).toBe('final');
    } finally {
      client.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
