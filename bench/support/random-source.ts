import { createHash } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

/** Size of the one random block every generated body is cut from. */
const BLOCK_SIZE = 4 * 1024 * 1024;
/** Size of each piece pushed into a stream (what a socket read would typically hand over, times a few). */
const PIECE_SIZE = 256 * 1024;

/**
 * One random block, made once per process and reused: generating a gigabyte of fresh random bytes would cost
 * more CPU than the upload being measured (the machine has two cores).
 */
const BLOCK = randomBytes(BLOCK_SIZE);

/**
 * The deterministic content of byte range [start, end) of a generated "file": the random block repeated, each
 * repetition rotated by a different amount so identical chunks do not line up with chunk boundaries.
 * Yields views into the shared block (no copies).
 */
export function* pieces(start: number, end: number): Generator<Buffer> {
  let position = start;
  while (position < end) {
    const blockIndex = Math.floor(position / BLOCK_SIZE);
    const rotation = (blockIndex * 65_537) % BLOCK_SIZE;
    const inBlock = position % BLOCK_SIZE;
    const from = (inBlock + rotation) % BLOCK_SIZE;
    const length = Math.min(PIECE_SIZE, end - position, BLOCK_SIZE - inBlock, BLOCK_SIZE - from);
    yield BLOCK.subarray(from, from + length);
    position += length;
  }
}

/** A readable stream of bytes [start, end) of the generated file (backpressure-aware, never holds the file). */
export function rangeStream(start: number, end: number): Readable {
  return Readable.from(pieces(start, end), { objectMode: false, highWaterMark: 1 });
}

const digests = new Map<number, string>();

/** sha256 (hex) of a whole generated file of `size` bytes; cached, computed outside any timed section. */
export function expectedSha256(size: number): string {
  let hex = digests.get(size);
  if (!hex) {
    const hash = createHash('sha256');
    for (const piece of pieces(0, size)) hash.update(piece);
    hex = hash.digest('hex');
    digests.set(size, hex);
  }
  return hex;
}

/** sha256 (hex) of a whole file on disk, streamed. */
export async function fileSha256(path: string): Promise<string> {
  const { createReadStream } = await import('node:fs');
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
