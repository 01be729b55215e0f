import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Database, OPEN_READONLY } from 'sqlite3';
import { httpRequest, TestResponse } from '../support/http-client';
import { ServerProcess, startServer } from '../support/server-process';
import { CHUNK, restCreate, sendChunk, sha256, tusCreate, TUS } from './reliability.support';

const TOKEN = 'reliability-secret';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const WRONG = { Authorization: 'Bearer someone-else' };
const MAX_UPLOAD_SIZE = 64 * 1024 * 1024;
/** Every hostile name carries this marker, so anything created anywhere can be searched for. */
const MARK = `pwned${randomBytes(4).toString('hex')}`;

interface Hostile {
  name: string;
  method: string;
  path: string;
  headers?: Record<string, string | number>;
  body?: string | Buffer;
}

/** Files under `root` (relative path → size:mtime), skipping `exclude`d absolute directories. */
async function tree(
  root: string,
  exclude: string[],
  out: Record<string, string> = {},
  rel = '',
): Promise<Record<string, string>> {
  for (const entry of await readdir(join(root, rel), { withFileTypes: true })) {
    const path = join(root, rel, entry.name);
    if (exclude.includes(path)) continue;
    const st = await stat(path);
    out[join(rel, entry.name)] = entry.isDirectory() ? 'dir' : `${st.size}:${st.mtimeMs}`;
    if (entry.isDirectory()) await tree(root, exclude, out, join(rel, entry.name));
  }
  return out;
}

/** Every row of the session table, read straight from the SQLite file (not through the server). */
function sessionRows(file: string): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const db = new Database(file, OPEN_READONLY, (error) => {
      if (error) return reject(error);
      db.all('SELECT * FROM valiblob_upload_sessions ORDER BY upload_id', (err, rows) => {
        db.close();
        if (err) reject(err);
        else resolve(rows);
      });
    });
  });
}

/** Names containing the marker anywhere under `root` (recursive) or directly in `dir`s. */
async function markerHits(root: string, dirs: string[]): Promise<string[]> {
  const hits = Object.keys(await tree(root, [])).filter((p) => p.includes(MARK));
  for (const dir of dirs) {
    const names = await readdir(dir).catch(() => [] as string[]);
    hits.push(...names.filter((n) => n.includes(MARK)).map((n) => join(dir, n)));
  }
  return hits;
}

/**
 * A sweep of hostile requests against the real server (`npm start` with AUTH_TOKEN and MAX_UPLOAD_SIZE): path
 * traversal in every form (plain, backslash, absolute, percent-encoded, double-encoded, NUL, reserved area),
 * huge/negative/garbage lengths and offsets, malformed tus headers and Upload-Metadata, oversize metadata, bad and
 * unknown checksums, wrong tokens on someone else's upload, unknown ids and wrong content types.
 * Every answer must be 4xx, the server must log no unexpected error, nothing may appear outside the storage root
 * (the directory tree around it and a sibling directory are compared before/after, and the marker every hostile
 * name carries is searched for), and the session table (read from the SQLite file) must be unchanged.
 */
describe('hostile input sweep', () => {
  let parent: string;
  let storage: string;
  let dbFile: string;
  let server: ServerProcess;

  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'vb-rel-hostile-'));
    storage = join(parent, 'app', 'storage');
    dbFile = join(parent, 'db', 'sessions.sqlite');
    await mkdir(join(parent, 'sibling', 'nested'), { recursive: true });
    await writeFile(join(parent, 'sibling', 'nested', 'secret.txt'), 'do not touch');
    // A file next to the storage root (what `../config.json` from the root would hit).
    await mkdir(join(parent, 'app'), { recursive: true });
    await writeFile(join(parent, 'app', 'config.json'), '{}');
    server = await startServer({
      STORAGE_DIR: storage,
      DATABASE_URL: `sqlite:${dbFile}`,
      AUTH_TOKEN: TOKEN,
      MAX_UPLOAD_SIZE: String(MAX_UPLOAD_SIZE),
    });
  }, 120_000);

  afterAll(async () => {
    await server?.kill();
    if (parent) await rm(parent, { recursive: true, force: true });
  });

  it('answers at least 60 hostile requests with 4xx and changes nothing', async () => {
    const base = server.url;
    // Sessions an attacker might try to corrupt: REST and tus uploads in progress, and a finished one.
    const data = randomBytes(3 * CHUNK);
    const restId = await restCreate(base, data.length, AUTH);
    expect((await sendChunk(base, 'rest', restId, data, 0, AUTH)).status).toBe(200);
    const tusId = await tusCreate(base, data.length, AUTH);
    expect((await sendChunk(base, 'tus', tusId, data, 0, AUTH)).status).toBe(204);
    const done = await httpRequest(`${base}/uploads`, {
      method: 'POST',
      headers: { ...AUTH, 'Content-Type': 'application/json' },
      body: JSON.stringify({ totalSize: 5, path: 'safe/done.bin' }),
    });
    const doneId = done.json.uploadId as string;
    expect(
      (await httpRequest(`${base}/uploads/${doneId}/chunks/0`, { method: 'PUT', headers: AUTH, body: 'hello' })).status,
    ).toBe(200);
    expect((await httpRequest(`${base}/uploads/${doneId}/complete`, { method: 'POST', headers: AUTH })).status).toBe(
      200,
    );

    const around = [storage, dirname(dbFile)];
    const treeBefore = await tree(parent, around);
    const rowsBefore = await sessionRows(dbFile);
    expect(rowsBefore).toHaveLength(3);

    const json = { ...AUTH, 'Content-Type': 'application/json' };
    const create = (name: string, body: unknown): Hostile => ({
      name,
      method: 'POST',
      path: '/uploads',
      headers: json,
      body: JSON.stringify(body),
    });
    const createPath = (p: unknown) =>
      create(`REST create path ${JSON.stringify(p).slice(0, 40)}`, { totalSize: 10, path: p });
    const chunkAt = CHUNK;
    const restChunk = (
      name: string,
      headers: Record<string, string | number>,
      body: string | Buffer = 'abc',
      offset: number | string = chunkAt,
    ): Hostile => ({
      name,
      method: 'PUT',
      path: `/uploads/${restId}/chunks/${offset}`,
      headers: { ...AUTH, 'Content-Type': 'application/octet-stream', ...headers },
      body,
    });
    const tusPost = (name: string, headers: Record<string, string | number>): Hostile => ({
      name,
      method: 'POST',
      path: '/files',
      headers: { ...AUTH, ...TUS, ...headers },
    });
    const tusPatch = (
      name: string,
      headers: Record<string, string | number>,
      body: string | Buffer = 'abc',
    ): Hostile => ({
      name,
      method: 'PATCH',
      path: `/files/${tusId}`,
      headers: {
        ...AUTH,
        ...TUS,
        'Upload-Offset': chunkAt,
        'Content-Type': 'application/offset+octet-stream',
        ...headers,
      },
      body,
    });
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const md5 = (s: string) => createHash('md5').update(s).digest('base64');

    const sweep: Hostile[] = [
      // REST create: path traversal in every form
      ...[
        `../${MARK}`,
        `../../${MARK}`,
        `../../../../../../tmp/${MARK}`,
        `/etc/${MARK}`,
        `/${MARK}`,
        `a/../../${MARK}`,
        `a/b/../../../${MARK}`,
        `..\\..\\${MARK}`,
        `a\\..\\..\\${MARK}`,
        `C:\\${MARK}`,
        `a/${MARK}\u0000.txt`,
        `${MARK}\u0000/../../x`,
        `a/${MARK}\n.txt`,
        `a/${MARK}\u001b.txt`,
        `.valiblob/staging/${MARK}`,
        `.valiblob/meta/${MARK}.json`,
        '.',
        '..',
        '',
        `${MARK}/`.repeat(300),
        123,
        ['a'],
      ].map(createPath),
      // REST create: sizes, metadata, content types, bodies
      create('totalSize -1', { totalSize: -1 }),
      create('totalSize 1e300', { totalSize: 1e300 }),
      create('totalSize string', { totalSize: '100' }),
      create('totalSize 2^53', { totalSize: 2 ** 53 }),
      create('totalSize over MAX_UPLOAD_SIZE', { totalSize: MAX_UPLOAD_SIZE + 1 }),
      create('totalSize fraction', { totalSize: 1.5 }),
      create('totalSize missing', { path: `x/${MARK}` }),
      create('metadata string', { totalSize: 1, metadata: 'x' }),
      create('metadata array', { totalSize: 1, metadata: [1, 2] }),
      create('metadata non-string value', { totalSize: 1, metadata: { a: 1 } }),
      create('metadata oversize', { totalSize: 1, metadata: { big: 'x'.repeat(20_000) } }),
      create('contentType with NUL', { totalSize: 1, contentType: 'text/plain\u0000' }),
      create('JSON array body', [1]),
      { name: 'REST create malformed JSON', method: 'POST', path: '/uploads', headers: json, body: '{"totalSize": 1,' },
      {
        name: 'REST create text/plain body',
        method: 'POST',
        path: '/uploads',
        headers: { ...AUTH, 'Content-Type': 'text/plain' },
        body: 'totalSize=5',
      },
      {
        name: 'REST create without token',
        method: 'POST',
        path: '/uploads',
        headers: { 'Content-Type': 'application/json' },
        body: '{"totalSize":1}',
      },
      {
        name: 'REST create with wrong token',
        method: 'POST',
        path: '/uploads',
        headers: { ...WRONG, 'Content-Type': 'application/json' },
        body: '{"totalSize":1}',
      },
      // REST chunk / status / complete / abort
      {
        name: 'REST chunk encoded traversal id',
        method: 'PUT',
        path: `/uploads/%2e%2e%2f%2e%2e%2f${MARK}/chunks/0`,
        headers: AUTH,
        body: 'abc',
      },
      {
        name: 'REST chunk ..%2F id',
        method: 'PUT',
        path: `/uploads/..%2F..%2F${MARK}/chunks/0`,
        headers: AUTH,
        body: 'abc',
      },
      { name: 'REST chunk NUL id', method: 'PUT', path: `/uploads/a%00${MARK}/chunks/0`, headers: AUTH, body: 'abc' },
      restChunk('REST chunk offset -1', {}, 'abc', '-1'),
      restChunk('REST chunk offset 1e3', {}, 'abc', '1e3'),
      restChunk('REST chunk offset huge', {}, 'abc', '99999999999999999999'),
      restChunk('REST chunk offset mismatch', {}, 'abc', 0),
      restChunk('REST chunk JSON content type', { 'Content-Type': 'application/json' }, '{"a":1}'),
      restChunk('REST chunk wrong Content-MD5', { 'Content-MD5': md5('not this') }),
      restChunk('REST chunk unknown checksum algorithm', { 'Upload-Checksum': 'whirlpool AAAA' }),
      restChunk('REST chunk malformed checksum', { 'Upload-Checksum': 'sha1 !!!' }),
      restChunk('REST chunk past totalSize', { 'Content-Length': 3 * CHUNK }, Buffer.alloc(0)),
      restChunk('REST chunk negative Content-Length', { 'Content-Length': '-1' }, Buffer.alloc(0)),
      restChunk('REST chunk huge Content-Length', { 'Content-Length': '99999999999999999999' }, Buffer.alloc(0)),
      restChunk('REST chunk wrong token', { ...WRONG }),
      { name: 'REST status unknown id', method: 'GET', path: '/uploads/unknownUploadId000000000', headers: AUTH },
      {
        name: 'REST complete unknown id',
        method: 'POST',
        path: '/uploads/unknownUploadId000000000/complete',
        headers: AUTH,
      },
      { name: 'REST abort unknown id', method: 'DELETE', path: '/uploads/unknownUploadId000000000', headers: AUTH },
      { name: 'REST complete before all bytes', method: 'POST', path: `/uploads/${restId}/complete`, headers: AUTH },
      { name: 'REST status with wrong token', method: 'GET', path: `/uploads/${restId}`, headers: WRONG },
      {
        name: 'REST abort finished upload with wrong token',
        method: 'DELETE',
        path: `/uploads/${doneId}`,
        headers: WRONG,
      },
      { name: 'REST abort without token', method: 'DELETE', path: `/uploads/${restId}` },
      // tus creation
      {
        name: 'tus POST without Tus-Resumable',
        method: 'POST',
        path: '/files',
        headers: { ...AUTH, 'Upload-Length': 10 },
      },
      tusPost('tus POST Tus-Resumable 0.2.2', { 'Tus-Resumable': '0.2.2', 'Upload-Length': 10 }),
      tusPost('tus Upload-Length -1', { 'Upload-Length': '-1' }),
      tusPost('tus Upload-Length garbage', { 'Upload-Length': 'abc' }),
      tusPost('tus Upload-Length huge', { 'Upload-Length': '99999999999999999999' }),
      tusPost('tus Upload-Length over max', { 'Upload-Length': MAX_UPLOAD_SIZE + 1 }),
      tusPost('tus both lengths', { 'Upload-Length': 10, 'Upload-Defer-Length': 1 }),
      tusPost('tus Upload-Defer-Length 2', { 'Upload-Defer-Length': 2 }),
      tusPost('tus no length', {}),
      tusPost('tus metadata bad base64', { 'Upload-Length': 10, 'Upload-Metadata': 'filename !!!' }),
      tusPost('tus metadata duplicate key', { 'Upload-Length': 10, 'Upload-Metadata': `a ${b64('x')},a ${b64('y')}` }),
      tusPost('tus metadata three tokens', { 'Upload-Length': 10, 'Upload-Metadata': 'a b c' }),
      tusPost('tus metadata oversize', { 'Upload-Length': 10, 'Upload-Metadata': `filename ${b64('x'.repeat(6000))}` }),
      tusPost('tus X-HTTP-Method-Override TRACE', { 'Upload-Length': 10, 'X-HTTP-Method-Override': 'TRACE' }),
      tusPost('tus POST without token', { Authorization: '', 'Upload-Length': 10 }),
      // tus PATCH / HEAD / DELETE / GET
      tusPatch('tus PATCH wrong content type', { 'Content-Type': 'application/octet-stream' }),
      tusPatch('tus PATCH without content type', { 'Content-Type': '' }),
      {
        name: 'tus PATCH without Upload-Offset',
        method: 'PATCH',
        path: `/files/${tusId}`,
        headers: { ...AUTH, ...TUS, 'Content-Type': 'application/offset+octet-stream' },
        body: 'abc',
      },
      tusPatch('tus PATCH Upload-Offset -5', { 'Upload-Offset': '-5' }),
      tusPatch('tus PATCH Upload-Offset 1.5', { 'Upload-Offset': '1.5' }),
      tusPatch('tus PATCH Upload-Offset mismatch', { 'Upload-Offset': 0 }),
      tusPatch('tus PATCH wrong sha1', {
        'Upload-Checksum': `sha1 ${createHash('sha1').update('other').digest('base64')}`,
      }),
      tusPatch('tus PATCH unknown checksum algorithm', { 'Upload-Checksum': 'md99 AAAA' }),
      tusPatch('tus PATCH changes Upload-Length', { 'Upload-Length': 7 }),
      tusPatch('tus PATCH past Upload-Length', { 'Content-Length': 3 * CHUNK }, Buffer.alloc(0)),
      tusPatch('tus PATCH wrong token', { ...WRONG }),
      {
        name: 'tus HEAD unknown id',
        method: 'HEAD',
        path: '/files/unknownUploadId000000000',
        headers: { ...AUTH, ...TUS },
      },
      {
        name: 'tus HEAD encoded traversal',
        method: 'HEAD',
        path: '/files/..%2f..%2fetc%2fpasswd',
        headers: { ...AUTH, ...TUS },
      },
      {
        name: 'tus PATCH %2e%2e id',
        method: 'PATCH',
        path: '/files/%2e%2e',
        headers: { ...AUTH, ...TUS, 'Upload-Offset': 0, 'Content-Type': 'application/offset+octet-stream' },
        body: 'abc',
      },
      {
        name: 'tus DELETE unknown id',
        method: 'DELETE',
        path: '/files/unknownUploadId000000000',
        headers: { ...AUTH, ...TUS },
      },
      { name: 'tus HEAD wrong token', method: 'HEAD', path: `/files/${tusId}`, headers: { ...WRONG, ...TUS } },
      { name: 'tus DELETE without token', method: 'DELETE', path: `/files/${tusId}`, headers: TUS },
      { name: 'tus GET unfinished upload', method: 'GET', path: `/files/${tusId}`, headers: AUTH },
      // blob reads
      ...[
        '/blobs/../../etc/passwd',
        '/blobs/%2e%2e/%2e%2e/etc/passwd',
        '/blobs/..%2f..%2fetc%2fpasswd',
        '/blobs/..%5c..%5cetc%5cpasswd',
        '/blobs/%252e%252e/%252e%252e/etc/passwd',
        `/blobs/a%00${MARK}`,
        `/blobs/.valiblob/staging/${restId}`,
        '/blobs/.valiblob/meta/safe/done.bin.json',
        '/blobs/%E0%A4%A',
        '/blobs/safe/../../../etc/passwd',
      ].map((path): Hostile => ({ name: `GET ${path}`, method: 'GET', path, headers: AUTH })),
      { name: 'HEAD /blobs/../../etc/passwd', method: 'HEAD', path: '/blobs/../../etc/passwd', headers: AUTH },
      { name: 'GET blob without token', method: 'GET', path: '/blobs/safe/done.bin' },
      {
        name: 'GET blob range past end',
        method: 'GET',
        path: '/blobs/safe/done.bin',
        headers: { ...AUTH, Range: 'bytes=999999999-' },
      },
    ];
    expect(sweep.length).toBeGreaterThanOrEqual(60);

    const answers: Array<{ name: string; status: number | string }> = [];
    for (const request of sweep) {
      let response: TestResponse | undefined;
      try {
        response = await httpRequest(`${base}${request.path}`, {
          method: request.method,
          headers: request.headers,
          body: request.body,
        });
      } catch (error) {
        answers.push({ name: request.name, status: `no answer: ${(error as Error).message}` });
        continue;
      }
      answers.push({ name: request.name, status: response.status });
    }
    // eslint-disable-next-line no-console -- opt-in listing of every answer (RELIABILITY_VERBOSE=1)
    if (process.env.RELIABILITY_VERBOSE === '1') console.log(answers.map((a) => `${a.status} ${a.name}`).join('\n'));
    const not4xx = answers.filter((a) => typeof a.status !== 'number' || a.status < 400 || a.status > 499);
    expect(not4xx).toEqual([]);
    expect(server.output()).not.toMatch(/Unexpected error|INTERNAL_ERROR/);

    // Nothing created or changed around the storage root, nothing carrying the marker anywhere we can look.
    expect(await tree(parent, around)).toEqual(treeBefore);
    expect(await markerHits(parent, [tmpdir(), '/', '/etc', process.cwd()])).toEqual([]);
    expect(existsSync(join(parent, 'sibling', 'nested', 'secret.txt'))).toBe(true);
    // No session created or corrupted: the table is byte-for-byte what it was.
    expect(await sessionRows(dbFile)).toEqual(rowsBefore);

    // The sessions still work: the REST and tus uploads finish and the finished blob is intact.
    for (const [protocol, id] of [
      ['rest', restId],
      ['tus', tusId],
    ] as const) {
      for (let offset = CHUNK; offset < data.length; offset += CHUNK) {
        expect([200, 204]).toContain((await sendChunk(base, protocol, id, data, offset, AUTH)).status);
      }
    }
    expect(
      (await httpRequest(`${base}/uploads/${restId}/complete`, { method: 'POST', headers: AUTH })).json.session
        .checksum,
    ).toBe(sha256(data));
    expect((await httpRequest(`${base}/uploads/${tusId}`, { headers: AUTH })).json.checksum).toBe(sha256(data));
    expect((await httpRequest(`${base}/blobs/safe/done.bin`, { headers: AUTH })).body.toString()).toBe('hello');
  }, 120_000);
});
