import { Readable } from 'node:stream';
import { BodyAlreadyParsedError } from '../../errors/vali-blob.errors';
import type { HttpExchange } from '../http-exchange';
import { contentLength, hasBody } from '../tus/tus-headers';

/** The content of a draft request as the engine reads it: a stream and its length (`null`: unknown). */
export interface RequestContent {
  body: Readable;
  length: number | null;
}

/**
 * The content of a draft request. Unlike a tus or REST body, a creation's is labelled with the representation's own
 * type (`application/json`, a form, `text/plain`), and so may an interop-5 append's (any type goes there), which the
 * application's body parsers read before any route runs (Express `json`/`urlencoded`; on Fastify the
 * `shieldDraftContent` hook keeps them off). Then the stream is spent: the exact bytes are taken from the platform's
 * `rawBody` copy when the app enabled it (its size is bounded by the parser's limit), and otherwise the request is
 * refused (415) — storing the parsed-and-lost body would silently publish the wrong bytes.
 */
export function requestContent(exchange: HttpExchange): RequestContent {
  const { req } = exchange;
  if (!hasBody(exchange) || !req.readableEnded) return { body: exchange.body, length: contentLength(exchange) };
  const raw = (exchange.platformRequest as { rawBody?: unknown }).rawBody;
  if (Buffer.isBuffer(raw)) return { body: Readable.from([raw]), length: raw.length };
  throw new BodyAlreadyParsedError(exchange.header('content-type'));
}
