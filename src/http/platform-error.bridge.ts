import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { VALIBLOB_HTTP_OPTIONS } from '../vali-blob.constants';
import { HttpExchange } from './http-exchange';

/**
 * Express's JSON body parser rejects malformed bodies before any controller runs, so controller filters never
 * see those errors and Nest answers in its own shape. This registers an Express error handler — before Nest's
 * own, during module init — that answers such errors with the library's JSON and a stable `code`, only for
 * URLs under the library's own mounts; every other route of the app keeps its behaviour.
 */
@Injectable()
export class PlatformErrorBridge implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(VALIBLOB_HTTP_OPTIONS) private readonly http: { tus: string | null; rest: string | null; blobs: string | null },
  ) {}

  onModuleInit(): void {
    const adapter = this.adapterHost?.httpAdapter;
    if (!adapter || adapter.getType?.() !== 'express') return;
    const mounts = [this.http.rest, this.http.tus].filter((m): m is string => m !== null).map((m) => `/${m}`);
    if (mounts.length === 0) return;
    const instance = adapter.getInstance() as { use: (handler: unknown) => void };
    instance.use((error: { status?: number; statusCode?: number; type?: string; message?: string }, req: IncomingMessage, res: ServerResponse, next: (e: unknown) => void) => {
      const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '';
      const ours = mounts.some((m) => url === m || url.startsWith(`${m}/`) || url.startsWith(`${m}?`) || url.includes(`${m}/`));
      const status = error?.status ?? error?.statusCode;
      if (!ours || typeof status !== 'number' || status < 400 || status >= 500 || !String(error.type ?? '').startsWith('entity.')) {
        return next(error);
      }
      // Chunk bodies (PUT/PATCH) are never parsed: a parser touching one means the content type was wrong.
      if (req.method === 'PUT' || req.method === 'PATCH') {
        return new HttpExchange(req, res).json(415, {
          statusCode: 415,
          code: 'UNSUPPORTED_CONTENT_TYPE',
          message: 'Chunk bodies must be application/octet-stream or application/offset+octet-stream',
        });
      }
      const code = status === 413 ? 'SIZE_EXCEEDED' : status === 415 ? 'UNSUPPORTED_CONTENT_TYPE' : 'INVALID_REQUEST';
      new HttpExchange(req, res).json(status, { statusCode: status, code, message: `Request body rejected: ${error.message ?? error.type}` });
    });
  }
}
