import { randomBytes } from 'node:crypto';
import { FileHandle, mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Semaphore } from '../common/semaphore';

/** A part buffered on disk. */
export interface SpooledPart {
  file: string;
  size: number;
}

/** Input of `spoolParts`. */
export interface SpoolRequest {
  /** Byte sources read one after the other (e.g. the pending tail, then the request body). */
  sources: AsyncIterable<unknown>[];
  /** Exact size of every full part. */
  partSize: number;
  /** Where the part files go (created when missing). */
  directory: string;
  /** Shared cap on part uploads in flight; waiting for it pauses reading, which is the backpressure. */
  limiter: Semaphore;
  /** Upload one full part (`index` 0-based within this call). The file is deleted once it settles. */
  onFullPart: (part: SpooledPart, index: number) => Promise<void>;
}

/** What is left after every source ended. */
export interface SpoolResult {
  /** Bytes read from each source, in order. */
  bytesPerSource: number[];
  /** The last, short part (still on disk; the caller must `discardSpooled` it), or null when none. */
  remainder: SpooledPart | null;
  /** Settles when every started part upload has; rejects with the first failure. */
  uploads: Promise<void>;
}

/**
 * Cut byte sources into temp files of exactly `partSize` bytes, starting a (capped) upload for each full one
 * while reading on. Memory stays at one stream buffer; disk use is about (permits + 1) × part size. S3 needs a
 * known length per part, so some buffer is unavoidable, and disk is the cheap one.
 *
 * If a source throws (size limit, client gone), started uploads are awaited, every file is removed, and the
 * source's error is rethrown unchanged.
 */
export async function spoolParts(request: SpoolRequest): Promise<SpoolResult> {
  const { partSize, directory, limiter, onFullPart } = request;
  await mkdir(directory, { recursive: true });
  const started: Promise<void>[] = [];
  let firstUploadError: unknown;
  let current: { file: string; handle: FileHandle; size: number } | null = null;
  let partIndex = 0;
  const bytesPerSource: number[] = [];

  const openPart = async () => {
    const file = join(directory, `part-${randomBytes(10).toString('hex')}`);
    current = { file, handle: await open(file, 'w'), size: 0 };
    return current;
  };

  const finishFullPart = async () => {
    const part = current!;
    current = null;
    await part.handle.close();
    const release = await limiter.acquire();
    const index = partIndex++;
    started.push(
      onFullPart({ file: part.file, size: part.size }, index)
        .catch((error) => {
          firstUploadError ??= error;
          throw error;
        })
        .finally(() => {
          release();
          return rm(part.file, { force: true });
        }),
    );
  };

  try {
    for (const source of request.sources) {
      let read = 0;
      for await (const piece of source) {
        if (firstUploadError) throw firstUploadError;
        let buffer = toBuffer(piece);
        read += buffer.length;
        while (buffer.length > 0) {
          const part = current ?? (await openPart());
          const take = Math.min(buffer.length, partSize - part.size);
          await writeFully(part.handle, buffer.subarray(0, take), part.size);
          part.size += take;
          buffer = buffer.subarray(take);
          if (part.size === partSize) await finishFullPart();
        }
      }
      bytesPerSource.push(read);
    }
  } catch (error) {
    const leftover = current as { file: string; handle: FileHandle } | null;
    if (leftover) {
      await leftover.handle.close().catch(() => undefined);
      await rm(leftover.file, { force: true });
    }
    await Promise.allSettled(started);
    throw error;
  }

  let remainder: SpooledPart | null = null;
  const last = current as { file: string; handle: FileHandle; size: number } | null;
  if (last) {
    await last.handle.close();
    remainder = { file: last.file, size: last.size };
  }
  const uploads = Promise.allSettled(started).then(() => {
    if (firstUploadError) throw firstUploadError;
  });
  // The caller may decide not to wait (beforeCommit threw): never leave an unhandled rejection behind.
  uploads.catch(() => undefined);
  return { bytesPerSource, remainder, uploads };
}

/** Remove a spooled file (idempotent). */
export async function discardSpooled(part: SpooledPart | null): Promise<void> {
  if (part) await rm(part.file, { force: true });
}

async function writeFully(handle: FileHandle, buffer: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, done, buffer.length - done, position + done);
    done += bytesWritten;
  }
}

function toBuffer(piece: unknown): Buffer {
  if (Buffer.isBuffer(piece)) return piece;
  if (typeof piece === 'string') return Buffer.from(piece);
  const view = piece as Uint8Array;
  // Wrap, do not copy: a view over the same memory.
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}
