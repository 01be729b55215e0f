import type { UploadTransport } from '../policy/upload-policy.interfaces';
import type { TelemetryTransport } from './telemetry.names';

/** Built-in store classes by the name their class carries (walked up the chain, so subclasses count too). */
const KNOWN_STORES: ReadonlyArray<[string, string]> = [
  ['MemorySessionStore', 'memory'],
  ['TypeOrmSessionStore', 'typeorm'],
  ['RedisSessionStore', 'redis'],
];

/**
 * A short stable name of the session store's kind (`memory`, `typeorm`, `redis`, else `custom`) for the `store`
 * attribute. Decided from the class names on the prototype chain, so the optional peers (TypeORM, ioredis) are
 * never imported here. A minifier that renames classes turns every store into `custom`: acceptable for a label.
 */
export function storeKind(store: object): string {
  for (let proto = Object.getPrototypeOf(store); proto && proto !== Object.prototype;) {
    const name = (proto.constructor as { name?: string } | undefined)?.name;
    const known = KNOWN_STORES.find(([className]) => className === name);
    if (known) return known[1];
    proto = Object.getPrototypeOf(proto);
  }
  return 'custom';
}

/**
 * The `transport` label of a call: `tus` / `rufh` / `rest` from the HTTP layers, `api` for everything in-process.
 */
export function telemetryTransport(transport: UploadTransport | undefined): TelemetryTransport {
  return transport === 'tus' || transport === 'rufh' || transport === 'rest' ? transport : 'api';
}
