import { Controller, Get, Header, Inject, NotFoundException, Param, StreamableFile } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVER_POLICY_SUMMARY, ServerPolicySummary } from './policy.wiring';

/** One static file of the demo page, read once at start-up (the page is a handful of small files). */
interface DemoAsset {
  body: Buffer;
  contentType: string;
}

const PUBLIC_DIR = join(__dirname, 'public');

/**
 * Serves the demo page at `/` and its assets under `/demo/`: the page's own script and stylesheet from
 * `src/server/public/`, and tus-js-client's browser bundle straight from `node_modules`, so the page needs no CDN
 * and no build step (and never reaches the network beyond this server).
 *
 * The page talks to the public routes only (`/files` for tus, `/uploads/:id` for the stored path and sha256,
 * `/blobs/…` for downloads), so it is subject to the same `AUTH_TOKEN` check as any other client. Its one route
 * of its own, `GET /demo/policy`, says what the server's upload policy allows, so the page can tell its user
 * before a file is refused.
 */
@Controller()
export class DemoController {
  constructor(@Inject(SERVER_POLICY_SUMMARY) private readonly policySummary: ServerPolicySummary) {}

  private readonly page = readFileSync(join(PUBLIC_DIR, 'index.html'), 'utf8');

  private readonly assets: Record<string, DemoAsset> = {
    'app.js': { body: readFileSync(join(PUBLIC_DIR, 'app.js')), contentType: 'text/javascript; charset=utf-8' },
    'app.css': { body: readFileSync(join(PUBLIC_DIR, 'app.css')), contentType: 'text/css; charset=utf-8' },
    // Resolved through Node's resolver so a hoisted or nested install both work.
    'tus.min.js': {
      body: readFileSync(require.resolve('tus-js-client/dist/tus.min.js')),
      contentType: 'text/javascript; charset=utf-8',
    },
  };

  /** The demo page. */
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  // The page only loads its own same-origin assets; nothing inline, nothing remote.
  @Header(
    'Content-Security-Policy',
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  )
  index(): string {
    return this.page;
  }

  /**
   * What the upload policy allows (types, extensions, sniffing, quota, scanning). Public like the page: it names
   * rules, not data. Declared before `demo/:asset`, which would otherwise take the path on Express.
   */
  @Get('demo/policy')
  @Header('Cache-Control', 'no-cache')
  policy(): ServerPolicySummary {
    return this.policySummary;
  }

  /** The page's script, stylesheet and the tus-js-client bundle. */
  @Get('demo/:asset')
  @Header('Cache-Control', 'no-cache')
  @Header('X-Content-Type-Options', 'nosniff')
  asset(@Param('asset') name: string): StreamableFile {
    const asset = Object.prototype.hasOwnProperty.call(this.assets, name) ? this.assets[name] : undefined;
    if (!asset) throw new NotFoundException(`No demo asset named ${name}`);
    // StreamableFile sets the content type on Express and Fastify alike.
    return new StreamableFile(asset.body, { type: asset.contentType, length: asset.body.length });
  }
}
