import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { startServer, ServerProcess } from '../support/server-process';
import { launchChromium, sha256OfUrl, writeRandomFile } from './browser-harness';

/**
 * The demo page at `/`, driven in Debian's Chromium against the real server (`npm start`, default SQLite
 * sessions, local disk): a 30 MiB upload through tus-js-client with pause / resume, a download through the
 * page's link compared by sha256, resume after a page reload, and the error display for 413 and a dead server.
 *
 * Small chunks plus a short pause before each PATCH (`?chunkSize=&delayMs=`, honoured by the page) make the
 * upload take a few seconds, so "pause at > 20 %" and "reload mid-upload" happen reliably mid-way.
 */
const MiB = 1024 * 1024;
const FILE_SIZE = 30 * MiB;
const MAX_UPLOAD_SIZE = 32 * MiB;
const SLOW_PAGE = '/?chunkSize=524288&delayMs=60';
const ARTIFACTS = join(__dirname, '..', 'artifacts');

jest.setTimeout(120_000);

describe('demo page in a real browser (Chromium + tus-js-client)', () => {
  let workDir: string;
  let server: ServerProcess;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'valiblob-demo-'));
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startServer({
      STORAGE_DIR: join(workDir, 'blobs'),
      DATABASE_URL: `sqlite:${join(workDir, 'sessions.sqlite')}`,
      MAX_UPLOAD_SIZE: String(MAX_UPLOAD_SIZE),
    });
    context = await launchChromium();
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => {
      // An exception in the page's script is a bug of the page: make it visible in the test output.
      // eslint-disable-next-line no-console -- page errors are reported in the test output on purpose
      console.error(`page error: ${error.message}`);
    });
  });

  afterAll(async () => {
    await context?.close();
    await server?.kill();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  /** The row of the upload of `name` on the page. */
  const uploadRow = (name: string): Locator =>
    page.locator('[data-testid="upload"]', { has: page.locator('.file-name', { hasText: name }) });

  /** The completed-list entry of `name`. */
  const completedRow = (name: string): Locator =>
    page.locator('[data-testid="completed"]', { has: page.locator('a.download', { hasText: name }) });

  /** Wait until the row's progress is above `percent` (read from `data-percent`, which the page keeps current). */
  async function waitForPercentAbove(name: string, percent: number): Promise<void> {
    const row = uploadRow(name);
    let last = 0;
    const reached = await poll(
      async () => (last = Number((await row.getAttribute('data-percent', { timeout: 60_000 })) ?? 0)) > percent,
      60_000,
      10,
    );
    if (!reached) throw new Error(`${name} did not pass ${percent} % (last seen ${last} %)`);
  }

  /** Wait until the row has started sending (or resending) and return the offset it started from. */
  async function startOffset(row: Locator, notZero = false): Promise<number> {
    let value: string | null = null;
    const started = await poll(async () => {
      value = await row.getAttribute('data-start-offset', { timeout: 60_000 });
      return value !== null && (!notZero || value !== '0');
    }, 60_000);
    if (!started) throw new Error(`upload did not start (data-start-offset ${value})`);
    return Number(value);
  }

  /** tus HEAD from outside the browser: the server's view of the upload's offset. */
  async function serverOffset(uploadUrl: string): Promise<number> {
    const response = await fetch(new URL(uploadUrl, server.url), {
      method: 'HEAD',
      headers: { 'Tus-Resumable': '1.0.0' },
    });
    expect(response.status).toBe(200);
    return Number(response.headers.get('upload-offset'));
  }

  /** Follow the page's download link and compare the bytes with the original. */
  async function expectDownloadMatches(name: string, sha256: string): Promise<void> {
    const entry = completedRow(name);
    await entry.waitFor({ timeout: 60_000 });
    const href = await entry.locator('a.download').getAttribute('href');
    expect(href).toMatch(new RegExp(`^/blobs/tus/[A-Za-z0-9_-]+/${name.replace('.', '\\.')}$`));
    const download = await sha256OfUrl(new URL(href!, server.url).href);
    expect(download).toEqual({ status: 200, sha256, bytes: FILE_SIZE });
    // The page also shows the sha256 the server computed over the whole file.
    expect(await entry.getAttribute('data-sha256')).toBe(sha256);
  }

  it('uploads 30 MiB with pause at > 20 %, resume to 100 %, and the download link returns the same bytes', async () => {
    const name = 'paused-30mib.bin';
    const file = join(workDir, name);
    const sha256 = await writeRandomFile(file, FILE_SIZE);

    await page.goto(server.url + SLOW_PAGE);
    await expect(page.locator('#server-status')).toHaveDataState('online');
    await page.setInputFiles('#file-input', file);
    const row = uploadRow(name);

    await waitForPercentAbove(name, 5);
    // The artifact a human looks at: progress bar, speed and ETA mid-upload.
    await page.screenshot({ path: join(ARTIFACTS, 'demo-mid-upload.png'), fullPage: true });
    expect(await row.locator('.speed').textContent()).toMatch(/\/s$/);
    expect(await row.locator('.eta').textContent()).toMatch(/left$/);

    await waitForPercentAbove(name, 20);
    await row.locator('[data-action="pause"]').click();
    await expect(row).toHaveDataState('paused');
    const pausedPercent = Number(await row.getAttribute('data-percent'));
    expect(pausedPercent).toBeGreaterThan(20);
    expect(pausedPercent).toBeLessThan(100);

    // Paused means paused: the server's offset is mid-file and does not move.
    const uploadUrl = (await row.getAttribute('data-upload-url'))!;
    const offsetAtPause = await serverOffset(uploadUrl);
    expect(offsetAtPause).toBeGreaterThan(0);
    expect(offsetAtPause).toBeLessThan(FILE_SIZE);
    await page.waitForTimeout(800);
    expect(await serverOffset(uploadUrl)).toBe(offsetAtPause);
    expect(Number(await row.getAttribute('data-percent'))).toBe(pausedPercent);

    await row.locator('[data-action="resume"]').click();
    // It continues from the server's offset, not from 0.
    expect(await startOffset(row, true)).toBe(offsetAtPause);

    await expectDownloadMatches(name, sha256);
    expect(await serverOffset(uploadUrl)).toBe(FILE_SIZE);
  });

  it('resumes after a page reload mid-upload instead of starting over', async () => {
    const name = 'reloaded-30mib.bin';
    const file = join(workDir, name);
    const sha256 = await writeRandomFile(file, FILE_SIZE);

    await page.goto(server.url + SLOW_PAGE);
    await page.setInputFiles('#file-input', file);
    await waitForPercentAbove(name, 30);
    const uploadUrl = (await uploadRow(name).getAttribute('data-upload-url'))!;

    await page.reload();
    // The page lists what the previous visit left behind (tus-js-client's stored URLs in localStorage).
    await expect(page.locator('#resumable-list')).toContainTextEventually(name);
    const offsetAfterReload = await serverOffset(uploadUrl);
    expect(offsetAfterReload).toBeGreaterThan(FILE_SIZE * 0.2);

    await page.setInputFiles('#file-input', file);
    const row = uploadRow(name);
    // Same upload URL, continuing at (at least) the offset the server had when the page went away.
    expect(await startOffset(row)).toBeGreaterThanOrEqual(offsetAfterReload);
    expect(await row.getAttribute('data-upload-url')).toBe(uploadUrl);

    await expectDownloadMatches(name, sha256);
    // Once done, the stored URL is forgotten: nothing is left to resume.
    await expect(page.locator('#resumable')).toBeHiddenEventually();
  });

  it('shows the server limit when a file is too large (413 with Tus-Max-Size)', async () => {
    const name = 'too-large.bin';
    const file = join(workDir, name);
    writeFileSync(file, '');
    truncateSync(file, MAX_UPLOAD_SIZE + MiB); // sparse: no need to write 33 MiB of zeros

    await page.goto(server.url + '/');
    await page.setInputFiles('#file-input', file);
    const row = uploadRow(name);
    await expect(row).toHaveDataState('error');
    expect(await row.getAttribute('data-error-status')).toBe('413');
    expect(await row.locator('.upload-error').textContent()).toBe(
      'Too large: 33 MiB is over this server\u2019s limit of 32 MiB.',
    );
    // Nothing to resume for a refused file.
    expect(await row.locator('[data-action="resume"]').isHidden()).toBe(true);
  });

  it('says the server is unreachable when it is down', async () => {
    const name = 'offline.bin';
    const file = join(workDir, name);
    await writeRandomFile(file, 64 * 1024);
    await page.goto(server.url + '/?retryDelays=100,100');
    await expect(page.locator('#server-status')).toHaveDataState('online');

    await server.kill();
    await page.setInputFiles('#file-input', file);
    const row = uploadRow(name);
    await expect(row).toHaveDataState('error');
    expect(await row.locator('.upload-error').textContent()).toBe(
      'Cannot reach the server. Check that it is running, then press Resume.',
    );
    expect(await page.locator('#server-status').getAttribute('data-state')).toBe('offline');
    expect(await row.locator('[data-action="resume"]').isVisible()).toBe(true);
  });
});

// Small polling matchers for locators (playwright-core ships no `expect`; jest's cannot wait).
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- augmenting jest's global Matchers takes a namespace
  namespace jest {
    interface Matchers<R> {
      toHaveDataState(state: string): Promise<R>;
      toContainTextEventually(text: string): Promise<R>;
      toBeHiddenEventually(): Promise<R>;
    }
  }
}

/** Re-run `check` every `intervalMs` until it holds or `timeoutMs` passes. */
async function poll(check: () => Promise<boolean>, timeoutMs = 30_000, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

expect.extend({
  async toHaveDataState(locator: Locator, state: string) {
    let last: string | null = null;
    const pass = await poll(async () => (last = await locator.getAttribute('data-state')) === state, 60_000);
    return { pass, message: () => `expected data-state "${state}", last seen "${last}"` };
  },
  async toContainTextEventually(locator: Locator, text: string) {
    let last = '';
    const pass = await poll(async () => (last = (await locator.textContent()) ?? '').includes(text));
    return { pass, message: () => `expected text containing "${text}", last seen "${last}"` };
  },
  async toBeHiddenEventually(locator: Locator) {
    const pass = await poll(() => locator.isHidden());
    return { pass, message: () => 'expected the element to become hidden' };
  },
});
