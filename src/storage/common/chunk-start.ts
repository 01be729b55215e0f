import { Readable } from 'node:stream';
import { InvalidRequestError } from '../../errors/vali-blob.errors';

/**
 * Run the checks a chunk must pass before its body is read (state, offset). When one fails the body is drained
 * (`resume`) before the error is thrown, so the request does not stall with unread bytes.
 */
export function checkBeforeReading<T>(body: Readable, check: () => T): T {
  try {
    return check();
  } catch (error) {
    body.resume();
    throw error;
  }
}

/** `INVALID_OFFSET` when a chunk does not start exactly where the bytes stored so far end. */
export function assertChunkOffset(offset: number, stored: number): void {
  if (offset !== stored) {
    throw new InvalidRequestError(`Chunk offset ${offset} does not match the stored ${stored} bytes`, 'INVALID_OFFSET');
  }
}
