import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { startServer, ServerProcess } from '../support/server-process';
import { launchChromium, writeRandomFile } from './browser-harness';

/**
 * The demo page against a server with an upload policy (`ALLOWED_TYPES=image/png`, `BLOCKED_EXTENSIONS=exe`,
 * `QUOTA_BYTES`): it lists what the server accepts, and a refused file shows the rejection's code and message
 * (not a generic failure), with nothing left to resume.
 */
jest.setTimeout(120_000);

const QUOTA = 1024 * 1024;
const ARTIFACTS = join(__dirname, '..', 'artifacts');

describe('demo page with an upload policy (real browser)', () => {
  let workDir: string;
  let server: ServerProcess;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'valiblob-demo-policy-'));
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startServer({
      STORAGE_DIR: join(workDir, 'blobs'),
      DATABASE_URL: `sqlite:${join(workDir, 'sessions.sqlite')}`,
      ALLOWED_TYPES: 'image/png',
      BLOCKED_EXTENSIONS: 'exe',
      QUOTA_BYTES: String(QUOTA),
    });
    context = await launchChromium();
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => {
      // eslint-disable-next-line no-console -- page errors are reported in the test output on purpose
      console.error(`page error: ${error.message}`);
    });
  });

  afterAll(async () => {
    await context?.close();
    await server?.kill();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  const uploadRow = (name: string): Locator =>
    page.locator('[data-testid="upload"]', { has: page.locator('.file-name', { hasText: name }) });

  /** Wait until the row's `data-state` is `state` (the page keeps it current). */
  async function waitForState(row: Locator, state: string): Promise<void> {
    let last: string | null = null;
    const deadline = Date.now() + 60_000;
    while ((last = await row.getAttribute('data-state', { timeout: 60_000 })) !== state) {
      if (Date.now() > deadline) throw new Error(`expected data-state "${state}", last seen "${last}"`);
      await page.waitForTimeout(50);
    }
  }

  it('lists what the server accepts', async () => {
    await page.goto(server.url + '/');
    const policy = page.locator('#policy');
    await policy.waitFor({ state: 'visible', timeout: 30_000 });
    expect(await policy.locator('[data-rule="types"]').textContent()).toBe('Types: image/png');
    expect(await policy.locator('[data-rule="blocked"]').textContent()).toBe('Never: .exe files');
    expect(await policy.locator('[data-rule="quota"]').textContent()).toBe(
      'Storage quota: 1.0 MiB in total (shared by all uploads)',
    );
    expect(await policy.locator('[data-rule="scan"]').count()).toBe(0);
  });

  it('a text file is rejected: the page shows TYPE_NOT_ALLOWED and the reason, and offers no resume', async () => {
    const name = 'notes.txt';
    const file = join(workDir, name);
    writeFileSync(file, 'not an image\n');

    await page.goto(server.url + '/');
    await page.setInputFiles('#file-input', file);
    const row = uploadRow(name);
    await waitForState(row, 'rejected');
    expect(await row.getAttribute('data-error-code')).toBe('TYPE_NOT_ALLOWED');
    expect(await row.getAttribute('data-error-status')).toBe('415');
    expect(await row.locator('.error-code').textContent()).toBe('TYPE_NOT_ALLOWED');
    expect(await row.locator('.error-code').isVisible()).toBe(true);
    // The server's own message, not "Upload failed".
    const message = (await row.locator('.error-message').textContent()) ?? '';
    expect(message).not.toMatch(/failed/i);
    expect(message.length).toBeGreaterThan(0);
    expect(await row.locator('.state-label').textContent()).toBe('Rejected (415)');
    expect(await row.locator('[data-action="resume"]').isHidden()).toBe(true);
    expect(await row.locator('[data-action="dismiss"]').isVisible()).toBe(true);
    // The artifact a human looks at: the policy list and a rejection as the user sees them.
    await page.screenshot({ path: join(ARTIFACTS, 'demo-rejected.png'), fullPage: true });
  });

  it('a PNG within the quota goes through', async () => {
    const name = 'picture.png';
    const file = join(workDir, name);
    await writeRandomFile(file, 64 * 1024);

    await page.goto(server.url + '/');
    await page.setInputFiles('#file-input', file);
    const done = page.locator('[data-testid="completed"]', { has: page.locator('a.download', { hasText: name }) });
    await done.waitFor({ timeout: 60_000 });
  });

  it('a PNG past the quota is rejected with QUOTA_EXCEEDED (413), not shown as "too large"', async () => {
    const name = 'huge.png';
    const file = join(workDir, name);
    await writeRandomFile(file, QUOTA);

    await page.goto(server.url + '/');
    await page.setInputFiles('#file-input', file);
    const row = uploadRow(name);
    await waitForState(row, 'rejected');
    expect(await row.locator('.error-code').textContent()).toBe('QUOTA_EXCEEDED');
    expect(await row.getAttribute('data-error-status')).toBe('413');
    expect(await row.locator('.error-message').textContent()).not.toMatch(/^Too large/);
  });
});
