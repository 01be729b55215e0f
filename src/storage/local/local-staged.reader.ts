import { createReadStream, ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { StorageUnavailableError } from '../../errors/vali-blob.errors';
import { isMissing } from './local-fs-errors';
import { StagingMissingError } from './local-staging';

/** One staged file of an upload: its bytes [0, length) are the next `length` bytes of the upload. */
export interface StagedPart {
  path: string;
  length: number;
}

/**
 * A stream of the staged bytes of an upload, part after part. Every part is checked to exist and to hold its
 * bytes before the stream is returned, so a missing (`StagingMissingError`) or short staging file fails the call
 * itself instead of a scan halfway through. The files are then opened one at a time as the consumer reads (an
 * upload staged by many instances has many segments; holding them all open would spend one descriptor each).
 */
export async function openStagedRead(parts: readonly StagedPart[]): Promise<Readable> {
  for (const part of parts) {
    const st = await stat(part.path).catch((error) => {
      throw isMissing(error) ? new StagingMissingError() : error;
    });
    if (st.size < part.length) throw shortStaging();
  }
  return new StagedPartsReadable(parts);
}

function shortStaging(): StorageUnavailableError {
  return new StorageUnavailableError('Staging data is shorter than the upload');
}

/**
 * Concatenation of `fs.createReadStream` ranges with these descriptor rules:
 * - at most one descriptor is open at a time: the next part is opened only once the previous stream has
 *   closed its own;
 * - nothing is opened before the first read, so a stream that is never read holds no descriptor;
 * - `destroy` (early stop by the consumer, or an error) destroys the current part's stream and emits `close`
 *   only after that stream has closed its descriptor, so "closed" really means nothing is left open.
 * Reading never syncs or changes a file: the staged data stays exactly as it is.
 */
class StagedPartsReadable extends Readable {
  private next = 0;
  private current: ReadStream | null = null;

  constructor(private readonly parts: readonly StagedPart[]) {
    super();
  }

  override _read(): void {
    if (this.current) this.current.resume();
    else this.openNext();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const current = this.current;
    this.current = null;
    if (!current || current.closed) {
      callback(error);
      return;
    }
    current.once('close', () => callback(error));
    current.destroy();
  }

  private openNext(): void {
    const part = this.parts[this.next++];
    if (!part) {
      this.push(null);
      return;
    }
    // Only the part's own range: bytes past it belong to writes that were never committed.
    const stream = createReadStream(part.path, { start: 0, end: part.length - 1 });
    this.current = stream;
    let received = 0;
    let ended = false;
    stream.on('data', (chunk) => {
      received += chunk.length;
      if (!this.push(chunk)) stream.pause();
    });
    stream.once('end', () => (ended = true));
    stream.once('error', (error) => {
      if (this.current === stream) this.destroy(isMissing(error) ? new StagingMissingError() : error);
    });
    stream.once('close', () => {
      // Not ours any more: `_destroy` took it over and waits for this same event.
      if (this.current !== stream) return;
      this.current = null;
      // A file cut short after the check (it must hold every committed byte) is a storage fault, never data.
      if (!ended || received < part.length) this.destroy(shortStaging());
      else this.openNext();
    });
  }
}
