import { Logger } from '@nestjs/common';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MemorySessionStore, UploadEvents } from '../../src';
import { StaleUploadCleanupService } from '../../src/cleanup/stale-upload-cleanup.service';
import { expiredSession } from '../cleanup/cleanup-fixture';
import { RestTestApp, startRestApp } from '../http/rest-app';
import { CapturingLogger, LogEntry } from '../support/capturing-logger';
import { OFFSET_STREAM, TUS } from '../tus/tus-http';

const ALICE = { 'x-user': 'alice' };

/**
 * Every library log line about an upload names it and its owner: driven through real engine paths (a storage
 * failure during a chunk, a policy hook that throws, a failing event listener, a cleanup sweep that fails on one
 * session), with the app's logger replaced by one that keeps each line as the logger receives it.
 */
describe('log lines about an upload carry its id and owner (Nest logger, text)', () => {
  let rest: RestTestApp;
  const logger = new CapturingLogger();
  const store = new MemorySessionStore();
  let hookThrows = false;

  beforeAll(async () => {
    rest = await startRestApp(
      'express',
      {
        sessionStore: store,
        policy: {
          hooks: {
            onFirstBytes: () => {
              if (hookThrows) throw new Error('hook bug');
            },
          },
        },
      },
      { rest: { path: 'uploads' }, tus: { path: 'files' }, blobs: false },
    );
    Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose']);
    rest.t.app.useLogger(logger);
  });
  afterAll(async () => {
    await rest?.close();
    Logger.overrideLogger(['error']);
  });
  beforeEach(() => {
    logger.entries.length = 0;
    hookThrows = false;
  });

  /** Lines that name `id` (all levels), and every error/warn line of the test. */
  const about = (id: string) => logger.entries.filter((e) => e.text.includes(id));
  const problems = () => logger.entries.filter((e) => e.level === 'error' || e.level === 'warn');
  const expectAbout = (entries: LogEntry[], id: string) => {
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) expect(entry.text).toContain(`(upload ${id}, owner alice)`);
  };

  async function startUpload(size: number): Promise<string> {
    const res = await rest.start({ totalSize: size }, ALICE);
    expect(res.status).toBe(201);
    return (res.json as { uploadId: string }).uploadId;
  }

  it('a storage failure in a chunk (503): the provider failure and the 503 line name upload and owner', async () => {
    const id = await startUpload(10);
    // The staging directory becomes a file: the provider's writes fail with ENOTDIR, an I/O failure (503).
    const staging = join(rest.root, '.valiblob', 'staging');
    await rm(staging, { recursive: true, force: true });
    await writeFile(staging, 'not a directory');
    try {
      const res = await rest.put(id, 0, Buffer.from('0123456789'), ALICE);
      expect(res.status).toBe(503);
      expect(res.json).toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    } finally {
      await rm(staging, { force: true });
      await mkdir(staging, { recursive: true });
    }
    const failure = logger.entries.find((e) => e.text.startsWith('Storage provider call failed'));
    expect(failure).toMatchObject({ level: 'error' });
    expect(failure!.text.split('\n')[0]).toContain(`(upload ${id}, owner alice)`);
    expect(logger.entries.some((e) => e.text.startsWith('503 STORAGE_UNAVAILABLE'))).toBe(true);
    expectAbout(problems(), id);
  });

  it('a policy hook that throws (500 POLICY_FAILED): its failure and the 500 line name upload and owner', async () => {
    const id = await startUpload(4);
    hookThrows = true;
    const res = await rest.put(id, 0, Buffer.from('abcd'), ALICE);
    expect(res.status).toBe(500);
    expect(res.json).toMatchObject({ code: 'POLICY_FAILED' });
    expect(problems().some((e) => e.text.startsWith('Upload policy onFirstBytes failed: hook bug'))).toBe(true);
    expect(problems().some((e) => e.text.startsWith('500 POLICY_FAILED'))).toBe(true);
    expectAbout(problems(), id);
  });

  it('a client mistake on an upload (debug line) names upload and owner too', async () => {
    const id = await startUpload(4);
    const res = await rest.put(id, 2, Buffer.from('ab'), ALICE);
    expect(res.status).toBe(409);
    expectAbout(about(id), id);
    expect(about(id).map((e) => e.level)).toEqual(['debug']);
  });

  it('a client mistake on a tus upload (PATCH at the wrong offset) names upload and owner too', async () => {
    const id = await startUpload(4);
    const res = await rest.call(`/files/${id}`, {
      method: 'PATCH',
      headers: { ...TUS, ...ALICE, 'Content-Type': OFFSET_STREAM, 'Upload-Offset': '2' },
      body: Buffer.from('ab'),
    });
    expect(res.status).toBe(409);
    expectAbout(about(id), id);
    expect(about(id).map((e) => e.level)).toEqual(['debug']);
  });

  it('a throwing upload.started listener: the failure names the upload and its owner', async () => {
    const off = rest.t.app.get(UploadEvents).on('upload.started', () => {
      throw new Error('listener bug');
    });
    try {
      const id = await startUpload(4);
      // The capturing logger appends what followed the message (Nest's error slot and the context).
      expect(problems().map((e) => e.text)).toEqual([
        `Listener of upload.started failed: Error: listener bug (upload ${id}, owner alice) undefined ValiBlob`,
      ]);
    } finally {
      off();
    }
  });

  it('a cleanup sweep that fails on one session names that session and its owner', async () => {
    // Its provider is unknown to this app: freeing its staged data fails on every run.
    const broken = expiredSession({ provider: 'gone', providerState: { staging: 'x' }, ownerId: 'alice' });
    const fine = expiredSession({ ownerId: 'bob' });
    await store.save(broken);
    await store.save(fine);
    const report = await rest.t.app.get(StaleUploadCleanupService).runOnce();
    expect(report).toMatchObject({ expired: 1, errors: 1 });
    const failure = problems().filter((e) => e.text.startsWith('Stale-upload cleanup: removing the session failed'));
    expect(failure).toHaveLength(1);
    expectAbout(failure, broken.uploadId);
    expect(problems().some((e) => e.text.includes(fine.uploadId))).toBe(false);
    await store.delete(broken.uploadId);
  });
});
