import { FileHandle, open } from 'node:fs/promises';
import { Readable } from 'node:stream';

/** Pieces of a body are gathered up to this size and written with one positional `writev`. */
const WRITE_BATCH_BYTES = 1024 * 1024;

/** Buffer size of `copyRange` (bounded memory whatever the blob size). */
const COPY_BUFFER_BYTES = 1024 * 1024;

/**
 * Copy a stream into a file at a position with positional writes: memory stays bounded (one batch of at most
 * 1 MiB) whatever the size, and nothing depends on a WriteStream's close semantics. Request bodies arrive in
 * 16–64 KiB pieces; gathering them into one `writev` per MiB saves an await and a syscall per piece. Returns
 * the number of bytes written.
 */
export async function writeAt(handle: FileHandle, body: Readable, start: number): Promise<number> {
  let position = start;
  let batch: Buffer[] = [];
  let batched = 0;
  const flush = async () => {
    if (batched === 0) return;
    const pieces = batch;
    const total = batched;
    batch = [];
    batched = 0;
    let { bytesWritten } = await handle.writev(pieces, position);
    if (bytesWritten < total) {
      // Short write (rare for files): write the rest from one contiguous buffer.
      const rest = Buffer.concat(pieces, total).subarray(bytesWritten);
      await writeFully(handle, rest, position + bytesWritten);
      bytesWritten = total;
    }
    position += bytesWritten;
  };
  for await (const piece of body) {
    const buffer = typeof piece === 'string' ? Buffer.from(piece) : (piece as Buffer);
    batch.push(buffer);
    batched += buffer.length;
    if (batched >= WRITE_BATCH_BYTES) await flush();
  }
  await flush();
  return position - start;
}

/**
 * Copy bytes [start, end) of `source` to `target` at `targetPosition` through one 1 MiB buffer. Throws when the
 * source ends early (it must hold every committed byte).
 */
export async function copyRange(
  source: FileHandle,
  start: number,
  end: number,
  target: FileHandle,
  targetPosition: number,
): Promise<void> {
  const buffer = Buffer.allocUnsafe(Math.min(COPY_BUFFER_BYTES, Math.max(1, end - start)));
  let position = start;
  while (position < end) {
    const { bytesRead } = await source.read(buffer, 0, Math.min(buffer.length, end - position), position);
    if (bytesRead === 0) throw new Error(`Staged segment ends at ${position}, before ${end}`);
    await writeFully(target, buffer.subarray(0, bytesRead), targetPosition + (position - start));
    position += bytesRead;
  }
}

/**
 * `fsync` a directory so a file just created (or renamed) in it survives a crash. Best effort: some platforms
 * (Windows) cannot open a directory, and the data itself was already synced.
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Not supported here; nothing more can be done.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

async function writeFully(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const result = await handle.write(data, done, data.length - done, position + done);
    done += result.bytesWritten;
  }
}
