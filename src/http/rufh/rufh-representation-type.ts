import type { IncomingMessage } from 'node:http';
import type { HttpExchange } from '../http-exchange';
import { mediaType } from '../tus/tus-headers';
import { INTEROP_HEADER } from './rufh-protocol';

/** Representation types of draft creation requests whose `Content-Type` was swapped before Fastify parsed them. */
const representationTypes = new WeakMap<IncomingMessage, string>();

/** What the swapped requests carry instead: a type the upload routes' pass-through parser streams untouched. */
const STREAMED_TYPE = 'application/octet-stream';

/** The slice of a Fastify request the hook reads. */
interface HookedRequest {
  raw: IncomingMessage;
  url?: string;
  method?: string;
}

/** The slice of a Fastify instance the hook needs (Fastify is an optional peer: no import of its types). */
export interface FastifyHooks {
  addHook(name: 'onRequest', hook: (request: HookedRequest, reply: unknown, done: () => void) => void): void;
}

/**
 * On Fastify, keep a draft creation request's content away from the body parsers. Its `Content-Type` names the
 * representation (`application/json`, `text/plain`, …), which Fastify's own parsers would read (and refuse when
 * empty) before the route runs. An `onRequest` hook — before parsing — files the type away for the handler and
 * labels the request `application/octet-stream`, which ValiBlob's pass-through parser leaves as a stream. Only
 * POSTs carrying `Upload-Draft-Interop-Version` under `isUploadRoute` are touched.
 */
export function shieldDraftContent(fastify: FastifyHooks, isUploadRoute: (url: string | undefined) => boolean): void {
  fastify.addHook('onRequest', (request, _reply, done) => {
    const { raw } = request;
    const type = raw.headers['content-type'];
    const draftCreation = raw.method === 'POST' && raw.headers[INTEROP_HEADER] !== undefined;
    if (draftCreation && type !== undefined && isUploadRoute(request.url?.split('?')[0])) {
      representationTypes.set(raw, type);
      raw.headers['content-type'] = STREAMED_TYPE;
    }
    done();
  });
}

/** The media type (lower-case, no parameters) and full value of the representation a creation request names. */
export function representationType(exchange: HttpExchange): { media?: string; value?: string } {
  const stashed = representationTypes.get(exchange.req);
  if (stashed === undefined) return { media: mediaType(exchange), value: exchange.header('content-type') };
  return { media: stashed.split(';')[0].trim().toLowerCase() || undefined, value: stashed };
}
