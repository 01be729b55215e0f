import { InvalidRequestError } from '../../errors/vali-blob.errors';
import type { HttpExchange } from '../http-exchange';

/**
 * Refuse, before anything else runs, the JSON bodies Fastify's parser refuses and Express's accepts, so a
 * create answers the same 400 INVALID_REQUEST on both platforms: an empty body sent as JSON (Express makes it
 * `{}`) and keys that poison prototypes (`__proto__`, `constructor.prototype`; Fastify's default
 * `onProtoPoisoning`/`onConstructorPoisoning: 'error'`). Bodies that are not JSON are left to the route.
 */
export function assertAcceptedJsonBody(exchange: HttpExchange): void {
  const type = exchange.header('content-type')?.split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') return;
  if (exchange.header('content-length') === '0') throw new InvalidRequestError('The JSON body is empty');
  if (hasPrototypeKey(exchange.parsedBody)) {
    throw new InvalidRequestError('The JSON body holds a forbidden prototype property');
  }
}

/**
 * Whether `value` holds `__proto__` or `constructor.prototype` as own keys at any depth (iterative: no stack
 * limit).
 */
function hasPrototypeKey(value: unknown): boolean {
  const own = (object: object, key: string) => Object.prototype.hasOwnProperty.call(object, key);
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const node = pending.pop();
    if (!node || typeof node !== 'object') continue;
    if (own(node, '__proto__')) return true;
    const ctor = own(node, 'constructor') ? (node as { constructor: unknown }).constructor : undefined;
    if (ctor && typeof ctor === 'object' && own(ctor, 'prototype')) return true;
    for (const child of Object.values(node)) pending.push(child);
  }
  return false;
}
