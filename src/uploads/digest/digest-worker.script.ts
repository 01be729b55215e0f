/**
 * The source of a digest worker thread, run with `new Worker(DIGEST_WORKER_SOURCE, { eval: true })`.
 *
 * Why a string and not a file: a worker file would have to be found at run time as `.js` next to the compiled
 * library, as `.ts` under ts-jest/swc, and again inside bundles; an evaluated source works the same everywhere.
 * It is plain CommonJS with no imports beyond Node's own modules, so nothing needs compiling.
 *
 * Protocol (all messages are objects with `t`), in order on one port, so no message needs an answer to go on:
 * - `{ t: 'new', h }`                  start an empty sha256 state under handle `h`
 * - `{ t: 'copy', h, from }`           state `h` = a copy of state `from` (a chunk extends a copy; the original
 *                                      stays valid until the chunk is committed)
 * - `{ t: 'data', h, buf, len }`       feed the first `len` bytes of the transferred ArrayBuffer `buf` to `h`;
 *                                      answered `{ t: 'ack', buf, len }` with the buffer transferred back for reuse
 * - `{ t: 'drop', h }`                 forget state `h`
 * - `{ t: 'digest', h, req }`          answered `{ t: 'digest', req, hex }` (null when `h` is unknown); `h` stays
 *                                      usable (the digest is taken from a copy)
 */
export const DIGEST_WORKER_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const states = new Map();
parentPort.on('message', (m) => {
  switch (m.t) {
    case 'new':
      states.set(m.h, createHash('sha256'));
      break;
    case 'copy': {
      const from = states.get(m.from);
      if (from) states.set(m.h, from.copy());
      break;
    }
    case 'data': {
      const state = states.get(m.h);
      if (state) state.update(new Uint8Array(m.buf, 0, m.len));
      parentPort.postMessage({ t: 'ack', buf: m.buf, len: m.len }, [m.buf]);
      break;
    }
    case 'drop':
      states.delete(m.h);
      break;
    case 'digest': {
      const state = states.get(m.h);
      parentPort.postMessage({ t: 'digest', req: m.req, hex: state ? state.copy().digest('hex') : null });
      break;
    }
  }
});
`;
