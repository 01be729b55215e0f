import { PLATFORMS, Platform, startTusApp, TusTestApp } from '../tus/tus-app';
import { rawRequest } from '../tus/tus-http';

const V8 = { 'Upload-Draft-Interop-Version': '8' };
/** Media types the platforms' default body parsers read before a route runs (Fastify also reads text/plain). */
const PARSED = ['application/json', 'application/x-www-form-urlencoded'];
const JSON_BYTES = Buffer.from('{"a": 1,   "b": [1, 2]}\n');

/**
 * A draft creation request labels its content with the representation's own type, which the application's body
 * parsers may read first. The upload must then be refused or stored byte for byte (from `rawBody`), never
 * published with the parsed-and-lost bytes.
 */
describe.each(PLATFORMS)('draft creation content a body parser reads, on %s', (platform: Platform) => {
  let plain: TusTestApp;
  let raw: TusTestApp;

  beforeAll(async () => {
    plain = await startTusApp(platform);
    raw = await startTusApp(platform, {}, undefined, undefined, undefined, { rawBody: true });
  });
  afterAll(async () => {
    await plain?.close();
    await raw?.close();
  });

  const create = (t: TusTestApp, type: string, body?: Buffer, complete = '?1') =>
    rawRequest(t.endpoint, {
      method: 'POST',
      headers: { ...V8, 'Upload-Complete': complete, 'Content-Type': type },
      body,
    });

  it('without rawBody: Fastify streams them (type kept from its parsers); Express refuses with 415', async () => {
    for (const type of [...PARSED, 'text/plain']) {
      const res = await create(plain, type, JSON_BYTES);
      if (platform === 'fastify') {
        expect({ type, status: res.status }).toEqual({ type, status: 200 });
        await expectServed(plain, res.headers.location, type);
      } else if (type !== 'text/plain') {
        // Express's parsers spent the stream: nothing is created, rather than an upload with the wrong bytes.
        expect({ type, status: res.status }).toEqual({ type, status: 415 });
        expect(JSON.parse(res.body).code).toBe('UNSUPPORTED_CONTENT_TYPE');
        expect(res.headers.location).toBeUndefined();
      }
    }
  });

  /** The upload at `location` is complete and serves exactly `JSON_BYTES` as `type`. */
  async function expectServed(t: TusTestApp, location: unknown, type: string): Promise<void> {
    const download = await fetch(new URL(String(location), t.origin).href);
    expect(Buffer.from(await download.arrayBuffer()).equals(JSON_BYTES)).toBe(true);
    expect(download.headers.get('content-type')).toContain(type);
  }

  it('with rawBody: the exact bytes are stored and served back', async () => {
    for (const type of PARSED) {
      const res = await create(raw, type, JSON_BYTES);
      expect({ type, status: res.status }).toEqual({ type, status: 200 });
      await expectServed(raw, res.headers.location, type);
    }
  });

  it('careful creation with such a type and no content, then appends: the representation keeps its type', async () => {
    const created = await create(plain, 'application/json', undefined, '?0');
    expect(created.status).toBe(201);
    const location = new URL(String(created.headers.location), plain.origin).href;
    const headers = {
      ...V8,
      'Content-Type': 'application/partial-upload',
      'Upload-Offset': '0',
      'Upload-Complete': '?1',
    };
    const appended = await rawRequest(location, { method: 'PATCH', headers, body: JSON_BYTES });
    expect(appended.status).toBe(200);
    await expectServed(plain, location, 'application/json');
  });

  it('an append sent as POST + X-HTTP-Method-Override: PATCH (tus-js-client overridePatchMethod) works', async () => {
    const created = await create(plain, 'application/octet-stream', undefined, '?0');
    const location = new URL(String(created.headers.location), plain.origin).href;
    const headers = {
      ...V8,
      'X-HTTP-Method-Override': 'PATCH',
      'Content-Type': 'application/partial-upload',
      'Upload-Offset': '0',
      'Upload-Complete': '?1',
    };
    const appended = await rawRequest(location, { method: 'POST', headers, body: JSON_BYTES });
    expect(appended.status).toBe(200);
    await expectServed(plain, location, 'application/octet-stream');
  });

  it('interop 5 appends carry any type: Fastify streams it; Express takes rawBody or refuses with 415', async () => {
    const v5 = { 'Upload-Draft-Interop-Version': '5' };
    for (const t of [plain, raw]) {
      const created = await rawRequest(t.endpoint, { method: 'POST', headers: { ...v5, 'Upload-Complete': '?0' } });
      const location = new URL(String(created.headers.location), t.origin).href;
      const headers = { ...v5, 'Content-Type': 'application/json', 'Upload-Offset': '0', 'Upload-Complete': '?1' };
      const appended = await rawRequest(location, { method: 'PATCH', headers, body: JSON_BYTES });
      if (platform === 'express' && t === plain) {
        expect(appended.status).toBe(415);
        const head = await rawRequest(location, { method: 'HEAD', headers: v5 });
        expect(head.headers['upload-offset']).toBe('0');
      } else {
        expect(appended.status).toBe(200);
        const download = await fetch(location);
        expect(Buffer.from(await download.arrayBuffer()).equals(JSON_BYTES)).toBe(true);
      }
    }
  });
});
