import { Controller, INestApplication, Module, Post, Req, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, createServer, IncomingHttpHeaders, request, Server, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpExchange } from '../../src/http/http-exchange';

/*
 * What the RUFH implementation relies on, measured on the running Node (written for Node 20, which has no public
 * API for an arbitrary 1xx): a `104 Upload Resumption Supported` written through the ServerResponse's internal
 * `_writeRaw` — the path Node's own `writeEarlyHints` takes — before the final response. Independent of ValiBlob's
 * RUFH code: a plain node:http server, and Nest apps that take the raw response the way HttpExchange does.
 */

const INTERIM = 'HTTP/1.1 104 Upload Resumption Supported\r\nLocation: /x\r\nUpload-Draft-Interop-Version: 8\r\n\r\n';
const CURL = '/usr/bin/curl';

/** Write the 104 as the implementation does; `false` when this Node has no `_writeRaw`. */
function write104(res: ServerResponse): boolean {
  const raw = res as ServerResponse & { _writeRaw?: (data: string, encoding: BufferEncoding) => boolean };
  if (typeof raw._writeRaw !== 'function') return false;
  raw._writeRaw(INTERIM, 'latin1');
  return true;
}

/** What the plain server saw of a request: did its response own the socket, was `_writeRaw` there (104 sent). */
type Seen = { path: string; socketAttached: boolean; remotePort: number; wrote: boolean };

/**
 * Plain server: 104 at once, then the body is read, then (after `?delay=ms`) `final <path> <bytes>`; with
 * `&split=1` the headers and the first 6 body bytes go out before the delay and the rest after it.
 */
async function plainServer(seen: Seen[]): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const socketAttached = res.socket !== null;
    seen.push({ path: url.pathname, socketAttached, remotePort: req.socket.remotePort ?? 0, wrote: write104(res) });
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      const body = `final ${url.pathname} ${bytes}`;
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
      if (url.searchParams.has('split')) res.write(body.slice(0, 6));
      const rest = url.searchParams.has('split') ? body.slice(6) : body;
      setTimeout(() => res.end(rest), Number(url.searchParams.get('delay') ?? 0));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

/** One node:http exchange with its 1xx ('information') answers and the order events came in. */
type Interim = { status: number; message: string; headers: IncomingHttpHeaders };
type NodeReply = { interim: Interim[]; events: string[]; status: number; text: string };

function nodeRequest(port: number, path: string, body: Buffer, agent?: Agent): Promise<NodeReply> {
  return new Promise((resolve, reject) => {
    const reply: NodeReply = { interim: [], events: [], status: 0, text: '' };
    const headers = { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length };
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers, agent }, (res) => {
      reply.events.push('response');
      reply.status = res.statusCode ?? 0;
      res.setEncoding('latin1');
      res.on('data', (d: string) => (reply.text += d));
      res.on('end', () => resolve(reply));
    });
    req.on('information', (info) => {
      reply.events.push(`information ${info.statusCode}`);
      reply.interim.push({ status: info.statusCode, message: info.statusMessage, headers: info.headers });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const HEADERS_104 = { location: '/x', 'upload-draft-interop-version': '8' };
const EXPECTED_INTERIM = { status: 104, message: 'Upload Resumption Supported', headers: HEADERS_104 };

function runCurl(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) =>
    execFile(CURL, ['-sS', ...args], { encoding: 'latin1' }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve({ stdout, stderr }),
    ),
  );
}

/** Everything the server sends back on one raw socket for `text` (read until the server closes). */
function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (received += d));
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
  });
}

const haveCurl = existsSync(CURL);
if (!haveCurl) {
  // eslint-disable-next-line no-console -- a skipped measurement must be loud in the test output
  console.warn(`\n!!! SKIPPING the curl measurements of the 104 interim response: ${CURL} is not installed.\n`);
}
const itCurl = haveCurl ? it : it.skip;

describe(`104 Upload Resumption Supported through res._writeRaw (Node ${process.version})`, () => {
  const seen: Seen[] = [];
  let server: Server;
  let port: number;
  let dir: string;

  beforeAll(async () => {
    ({ server, port } = await plainServer(seen));
    dir = await mkdtemp(join(tmpdir(), 'valiblob-104-'));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve).closeAllConnections());
    await rm(dir, { recursive: true, force: true });
  });

  it('(a) node:http: an information event with the 104 and its headers, then the final response and body', async () => {
    const reply = await nodeRequest(port, '/a', Buffer.alloc(5000, 1));
    // Node 20 has `_writeRaw` on every response; without it the implementation would send no 104 at all.
    expect(seen.at(-1)).toMatchObject({ path: '/a', wrote: true });
    expect(reply.events).toEqual(['information 104', 'response']);
    expect(reply.interim).toEqual([EXPECTED_INTERIM]);
    expect({ status: reply.status, text: reply.text }).toEqual({ status: 200, text: 'final /a 5000' });
  });

  it('(b) global fetch (undici) skips the 104 and delivers the final response (buffered, streamed body)', async () => {
    const outcome = async (res: Response) => `${res.status} ${await res.text()}`;
    const buffered = await fetch(`http://127.0.0.1:${port}/b1`, { method: 'POST', body: Buffer.alloc(4 << 20, 2) });
    expect(await outcome(buffered)).toBe('200 final /b1 4194304');
    const piece = Buffer.alloc(1 << 20, 3);
    const body = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 4; i++) controller.enqueue(piece);
        controller.close();
      },
    });
    const init = { method: 'POST', body, duplex: 'half' } as RequestInit;
    expect(await outcome(await fetch(`http://127.0.0.1:${port}/b2`, init))).toBe('200 final /b2 4194304');
  });

  itCurl('(c) curl -i prints the 104 with its headers, then the final response and body', async () => {
    const { stdout } = await runCurl(['-i', '--data-binary', 'abc', `http://127.0.0.1:${port}/c`]);
    expect(stdout.startsWith(INTERIM)).toBe(true);
    expect(stdout.slice(INTERIM.length)).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nfinal \/c 3$/);
    // Over 1 MiB curl sends Expect: 100-continue; Node answers 100 before the handler runs, then comes the 104.
    await writeFile(join(dir, 'big.bin'), Buffer.alloc(2 << 20, 4));
    const big = await runCurl(['-i', '--data-binary', `@${join(dir, 'big.bin')}`, `http://127.0.0.1:${port}/c2`]);
    expect(big.stdout.startsWith(`HTTP/1.1 100 Continue\r\n\r\n${INTERIM}HTTP/1.1 200 OK\r\n`)).toBe(true);
    expect(big.stdout.endsWith('\r\n\r\nfinal /c2 2097152')).toBe(true);
  });

  it('(d) keep-alive: a second request on the same connection gets its own 104 and final response', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const from = seen.length;
      const first = await nodeRequest(port, '/d1', Buffer.from('one'), agent);
      const second = await nodeRequest(port, '/d2', Buffer.from('second'), agent);
      expect([first, second].map((r) => [r.events, r.text])).toEqual([
        [['information 104', 'response'], 'final /d1 3'],
        [['information 104', 'response'], 'final /d2 6'],
      ]);
      const [a, b] = seen.slice(from);
      expect(b.remotePort).toBe(a.remotePort); // the same TCP connection carried both
      // fetch (undici) reuses its connection after a 104 as well. Measured: undici puts a connection back into
      // its pool a moment after the body's end resolves (with or without a 104); a fetch sent at once opens a
      // second connection, hence the pause.
      const texts: string[] = [];
      for (const path of ['/d3', '/d4']) {
        texts.push(await (await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', body: 'xy' })).text());
        await sleep(100);
      }
      expect(texts).toEqual(['final /d3 2', 'final /d4 2']);
      const [c, d] = seen.slice(from + 2);
      expect(d.remotePort).toBe(c.remotePort);
    } finally {
      agent.destroy();
    }
  });

  itCurl('(d) keep-alive: curl reuses the connection for a second URL after a 104', async () => {
    const urls = [`http://127.0.0.1:${port}/d5`, `http://127.0.0.1:${port}/d6`];
    const { stdout, stderr } = await runCurl(['-v', '--data-binary', 'zz', ...urls]);
    expect(stdout).toBe('final /d5 2final /d6 2');
    expect(stderr).toMatch(/Re-using existing connection/);
    expect(stderr.match(/< HTTP\/1\.1 104 Upload Resumption Supported/g)).toHaveLength(2);
  });

  it.each([
    ['whole first response late', 'delay=300'],
    ['first response headers sent, body late', 'delay=300&split=1'],
  ])('(f) pipelined (%s): the 104 of the second request waits until the first response ended', async (_, query) => {
    const from = seen.length;
    const first = `POST /f1?${query} HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nA`;
    const second = 'POST /f2 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nConnection: close\r\n\r\nB';
    const received = await rawExchange(port, first + second);
    // Measured: the second handler ran while the first response was still pending (its response did not own
    // the socket yet); Node buffered the 104 in that response's output and sent it once the first one ended.
    // Written with `req.socket.write` instead, the second 104 lands right after the first, before the first
    // response: the implementation must go through `_writeRaw` (or write only when `res.socket` is attached).
    expect(seen.slice(from).map((s) => `${s.path} ${s.socketAttached}`)).toEqual(['/f1 true', '/f2 false']);
    const endOfFirst = received.indexOf('final /f1 1');
    const secondInterim = received.indexOf(INTERIM, INTERIM.length);
    expect(received.indexOf(INTERIM)).toBe(0);
    expect(endOfFirst).toBeGreaterThan(0);
    expect(secondInterim).toBe(endOfFirst + 'final /f1 1'.length);
    expect(received.slice(secondInterim + INTERIM.length)).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nfinal \/f2 1$/);
    expect(received.match(/HTTP\/1\.1 /g)).toHaveLength(4);
  });
});

/** A route that takes the raw response as ValiBlob does (@Req/@Res, HttpExchange hijacks Fastify's reply). */
@Controller('interim')
class InterimController {
  @Post()
  async upload(@Req() req: unknown, @Res() res: unknown): Promise<void> {
    const exchange = new HttpExchange(req, res);
    const wrote = write104(exchange.res);
    let bytes = 0;
    for await (const chunk of exchange.body) bytes += (chunk as Buffer).length;
    exchange.json(201, { wrote, bytes, client: exchange.req.socket.remotePort }, { Location: '/x' });
  }
}

@Module({ controllers: [InterimController] })
class InterimModule {}

describe.each(['express', 'fastify'] as const)('104 through a NestJS app on %s', (platform) => {
  let app: INestApplication;
  let port: number;

  beforeAll(async () => {
    if (platform === 'fastify') {
      app = await NestFactory.create(InterimModule, new FastifyAdapter(), { logger: ['error'] });
      // The body must reach the handler unread, as ValiBlob's pass-through parser arranges.
      const fastify = app.getHttpAdapter().getInstance();
      const passThrough = (_req: unknown, _payload: unknown, done: (e: null, body: undefined) => void) =>
        done(null, undefined);
      fastify.addContentTypeParser('application/octet-stream', passThrough);
    } else {
      app = await NestFactory.create(InterimModule, { logger: ['error'] });
    }
    await app.listen(0, '127.0.0.1');
    port = ((app.getHttpServer() as Server).address() as { port: number }).port;
  });
  afterAll(() => app.close());

  it('(e) node:http gets the 104, then the final response intact; keep-alive carries a second request', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const clients: number[] = [];
      for (const size of [0, 300_000]) {
        const reply = await nodeRequest(port, '/interim', Buffer.alloc(size, 5), agent);
        expect(reply.events).toEqual(['information 104', 'response']);
        expect(reply.interim).toEqual([EXPECTED_INTERIM]);
        const body = JSON.parse(reply.text) as { client: number };
        expect({ status: reply.status, body }).toEqual({
          status: 201,
          body: { wrote: true, bytes: size, client: expect.any(Number) },
        });
        clients.push(body.client);
      }
      expect(clients[1]).toBe(clients[0]); // one connection carried both
    } finally {
      agent.destroy();
    }
  });

  it('(e) fetch gets the final response intact', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/interim`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: Buffer.alloc(70_000, 6),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/x');
    expect(await res.json()).toMatchObject({ wrote: true, bytes: 70_000 });
  });

  itCurl('(e) curl shows the 104 and the final response', async () => {
    const url = `http://127.0.0.1:${port}/interim`;
    const { stdout } = await runCurl(['-i', '-H', 'Content-Type: application/octet-stream', '--data-binary', 'q', url]);
    expect(stdout.startsWith(INTERIM)).toBe(true);
    expect(stdout.slice(INTERIM.length)).toMatch(/^HTTP\/1\.1 201 Created\r\n[^]*\r\n\r\n\{"wrote":true,"bytes":1,/);
  });
});
