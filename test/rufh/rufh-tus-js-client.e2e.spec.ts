import { Upload } from 'tus-js-client';
import { UploadEvents } from '../../src/uploads/upload.events';
import { PLATFORMS, Platform, startTusApp, TusTestApp } from '../tus/tus-app';
import { sha256, testBytes } from '../tus/tus-http';
import {
  DRAFT_PROTOCOLS,
  DraftProtocol,
  DraftUploadOptions,
  downloadedSha,
  draftHead,
  Exchange,
  expectDraftAnswers,
  idOf,
  recordingStack,
  runUpload,
  stored,
  streamOf,
} from './rufh-tus-js-client.helpers';

const MiB = 1024 * 1024;
const CHUNK = MiB;
// Not a whole number of chunks: the last PATCH is short, as with real files.
const SIZE = 4 * MiB + 4321;

describe.each(PLATFORMS)(
  'tus-js-client 4 over the IETF resumable-upload draft, %s tus endpoint',
  (platform: Platform) => {
    let t: TusTestApp;
    const data = testBytes(SIZE, platform === 'express' ? 21 : 22);
    const expected = sha256(data);

    beforeAll(async () => {
      t = await startTusApp(platform);
    });
    afterAll(async () => {
      await t?.close();
    });

    describe.each(DRAFT_PROTOCOLS)(
      "protocol '%s' (Upload-Draft-Interop-Version: %s)",
      (protocol: DraftProtocol, version) => {
        /** Options every upload of this block shares; `log` receives every exchange. */
        const base = (log: Exchange[]): DraftUploadOptions => ({
          endpoint: t.endpoint,
          chunkSize: CHUNK,
          protocol,
          httpStack: recordingStack(log),
        });

        /** The stored blob, the engine's checksum and a GET of the upload URL all match the source. */
        async function expectByteExact(url: string): Promise<void> {
          const result = await stored(t, url);
          expect(result.fileSha).toBe(expected);
          expect(result.sessionSha).toBe(expected);
          expect(await downloadedSha(url)).toBe(expected);
        }

        /** The completion answer's body is the completed upload, in the shape the contract names. */
        function expectCompletedBody(answer: Exchange, url: string, size: number, checksum: string): void {
          expect(answer.headers['repr-digest']).toBe(`sha-256=:${Buffer.from(checksum, 'hex').toString('base64')}:`);
          expect(answer.headers['content-type']).toMatch(/^application\/json/);
          expect(JSON.parse(answer.body)).toMatchObject({
            uploadId: idOf(url),
            totalSize: size,
            checksum,
            status: 'Complete',
          });
        }

        it.each([
          ['Buffer', false],
          ['Buffer', true],
          ['Readable stream', false],
          ['Readable stream', true],
        ])('uploads a %s byte-exact (uploadDataDuringCreation: %s)', async (kind, duringCreation) => {
          const log: Exchange[] = [];
          const url = await runUpload(kind === 'Buffer' ? data : streamOf(data), {
            ...base(log),
            uploadDataDuringCreation: duringCreation,
            uploadSize: kind === 'Buffer' ? undefined : SIZE,
            metadata: { filename: 'payload.bin', filetype: 'application/octet-stream' },
          });
          expectDraftAnswers(log, version);
          const [create, ...rest] = log;
          expect(create.method).toBe('POST');
          expect(create.status).toBe(201);
          expect(create.headers['upload-complete']).toBe('?0');
          expect(create.headers['upload-offset']).toBe(duringCreation ? String(CHUNK) : '0');
          // One 104 once the resource exists, naming it (tus-js-client ignores it and reads the final answer).
          expect(create.interim.map((i) => i.status)).toEqual([104]);
          expect(new URL(create.interim[0].headers.location as string, t.endpoint).href).toBe(url);
          expect(new URL(create.headers.location as string, t.endpoint).href).toBe(url);

          // Every part but the last is sent `Upload-Complete: ?0`. The last one is `?1` from a Buffer, but `?0` from
          // a Readable of known size (tus-js-client 4.3.1's StreamSource reads exactly to the size, so it never sees
          // the stream's end and reports its last slice not done); interop 5 and 6 complete at the declared length
          // then too, and the server's answer below must say the upload is complete either way.
          expect(rest.slice(0, -1).map((e) => `${e.method} ${e.sent('Upload-Complete')}`)).toEqual(
            Array<string>(duringCreation ? 3 : 4).fill('PATCH ?0'),
          );
          if (kind === 'Buffer') expect(rest[rest.length - 1].sent('Upload-Complete')).toBe('?1');
          expect(rest.map((e) => `${e.method} ${e.status}`)).toEqual([
            ...Array<string>(duringCreation ? 3 : 4).fill('PATCH 204'),
            'PATCH 200',
          ]);
          for (const patch of rest) expect(patch.interim).toEqual([]);
          const last = rest[rest.length - 1];
          expect(last.headers['upload-complete']).toBe('?1');
          expect(last.headers['upload-offset']).toBe(String(SIZE));
          await expectByteExact(url);
          expect((await stored(t, url)).path).toMatch(/^tus\/[\w-]+\/payload\.bin$/);

          if (version === '5') {
            // Upload-Limit did not exist in draft -03.
            for (const e of log) expect(e.headers['upload-limit']).toBeUndefined();
          } else {
            expect(create.headers['upload-limit']).toMatch(/max-size=\d+/);
            expect(create.headers['upload-limit']).not.toMatch(/max-age/);
          }
          expectCompletedBody(last, url, SIZE, expected);
        });

        it('sends a file smaller than one chunk in the creation request alone (Upload-Complete: ?1, 200)', async () => {
          const small = testBytes(300_000, 5);
          const log: Exchange[] = [];
          const url = await runUpload(small, { ...base(log), uploadDataDuringCreation: true });
          expectDraftAnswers(log, version);
          expect(log.map((e) => `${e.method} ${e.status}`)).toEqual(['POST 200']);
          expect(log[0].sent('Upload-Complete')).toBe('?1');
          expect(log[0].interim.map((i) => i.status)).toEqual([104]);
          expect(log[0].headers['upload-complete']).toBe('?1');
          expect(log[0].headers['upload-offset']).toBe(String(small.length));
          const result = await stored(t, url);
          expect(result.fileSha).toBe(sha256(small));
          expect(await downloadedSha(url)).toBe(sha256(small));
          expectCompletedBody(log[0], url, small.length, sha256(small));
        });

        it('uploads an empty file (created with Upload-Complete: ?0, Upload-Length: 0: complete)', async () => {
          const log: Exchange[] = [];
          const url = await runUpload(Buffer.alloc(0), base(log));
          expectDraftAnswers(log, version);
          expect(log.map((e) => `${e.method} ${e.sent('Upload-Complete')} ${e.sent('Upload-Length')}`)).toEqual([
            'POST ?0 0',
          ]);
          expect(log[0].status).toBe(200);
          expect(log[0].headers['upload-complete']).toBe('?1');
          const result = await stored(t, url);
          expect(result.fileSha).toBe(sha256(Buffer.alloc(0)));
          expect(await downloadedSha(url)).toBe(sha256(Buffer.alloc(0)));
          expectCompletedBody(log[0], url, 0, sha256(Buffer.alloc(0)));
        });

        /** Start an upload of `data` and abort it (optionally terminating) between two PATCHes or in one's body. */
        function startThenAbort(where: string, log: Exchange[], terminate = false): Promise<string> {
          return new Promise<string>((resolve, reject) => {
            let stopping = false;
            const stop = () => {
              if (stopping) return;
              stopping = true;
              upload.abort(terminate).then(() => resolve(upload.url!), reject);
            };
            const upload: Upload = new Upload(data, {
              ...base(log),
              retryDelays: null,
              onError: reject,
              onSuccess: () => reject(new Error('finished before abort')),
              onChunkComplete: (_chunk, accepted) => {
                if (where === 'between two requests' && accepted >= 2 * CHUNK) stop();
              },
              // Past the PATCH's start offset: its body is on the wire.
              onProgress: (sent) => {
                if (where === 'in the middle of a request' && sent > 2 * CHUNK) stop();
              },
            } as DraftUploadOptions);
            upload.start();
          });
        }

        it.each(['between two requests', 'in the middle of a request'])(
          'resumes after abort() %s through uploadUrl, byte-exact, without starting over',
          async (where) => {
            const first: Exchange[] = [];
            const firstUrl = await startThenAbort(where, first);
            // Two PATCHes were answered; in the second case the third was cut off before its answer.
            expect(first.filter((e) => e.method === 'PATCH').map((e) => e.sent('Upload-Offset'))).toEqual([
              '0',
              String(CHUNK),
            ]);
            const head = await draftHead(firstUrl, version);
            expect(head.status).toBe(204);
            expect(head.headers.get('upload-draft-interop-version')).toBe(version);
            expect(head.headers.get('upload-complete')).toBe('?0');
            const before = Number(head.headers.get('upload-offset'));
            // Between requests the offset is what was acknowledged; a cut-off body keeps whatever had arrived.
            if (where === 'between two requests') expect(before).toBe(2 * CHUNK);
            expect(before).toBeGreaterThanOrEqual(2 * CHUNK);
            expect(before).toBeLessThan(SIZE);

            // What the engine stores while resuming: it must start at `before`, not at 0.
            const received: { offset: number; bytes: number }[] = [];
            const unsubscribe = t.app.get(UploadEvents).on('upload.chunk', ({ session, offset, bytes }) => {
              if (session.uploadId === idOf(firstUrl)) received.push({ offset, bytes });
            });
            const log: Exchange[] = [];
            try {
              const { endpoint: _endpoint, ...withoutEndpoint } = base(log);
              const url = await runUpload(data, { ...withoutEndpoint, uploadUrl: firstUrl });
              expect(url).toBe(firstUrl);
            } finally {
              unsubscribe();
            }
            expectDraftAnswers(log, version);
            expect(log[0].method).toBe('HEAD');
            expect(log[0].headers['upload-offset']).toBe(String(before));
            expect(log.filter((e) => e.method === 'POST')).toEqual([]);
            expect(Math.min(...received.map((r) => r.offset))).toBe(before);
            expect(received.reduce((sum, r) => sum + r.bytes, 0)).toBe(SIZE - before);
            await expectByteExact(firstUrl);
          },
        );

        it.each(['between two requests', 'in the middle of a request'])(
          'abort(true) %s terminates the upload (DELETE 204), then its URL answers HEAD with 404/410',
          async (where) => {
            const log: Exchange[] = [];
            const url = await startThenAbort(where, log, true);
            const del = log.filter((e) => e.method === 'DELETE');
            expect(del.map((e) => e.status)).toEqual([204]);
            expectDraftAnswers(del, version);
            const head = await draftHead(url, version);
            expect([404, 410]).toContain(head.status);
            expect(head.headers.get('upload-draft-interop-version')).toBe(version);
            expect(head.headers.get('tus-resumable')).toBeNull();
          },
        );

        it('finishes a deferred-length stream upload (uploadLengthDeferred: true) byte-exact', async () => {
          const log: Exchange[] = [];
          const url = await runUpload(streamOf(data), { ...base(log), uploadLengthDeferred: true });
          expectDraftAnswers(log, version);
          const [create, ...patches] = log;
          expect(create.method).toBe('POST');
          expect(create.status).toBe(201);
          expect(create.sent('Upload-Length')).toBeUndefined();
          expect(create.headers['upload-length']).toBeUndefined();
          const last = patches[patches.length - 1];
          expect(last.sent('Upload-Length')).toBe(String(SIZE));
          expect(last.sent('Upload-Complete')).toBe('?1');
          expect(last.status).toBe(200);
          expect(last.headers['upload-complete']).toBe('?1');
          expect((await stored(t, url)).totalSize).toBe(SIZE);
          await expectByteExact(url);
        });
      },
    );
  },
);
