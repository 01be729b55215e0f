/**
 * The raw baseline ("limit line") of the throughput benchmark: the least a Node server can do to land an upload on
 * storage, written as well as plain Node allows. `PUT /raw/<name>?offset=<n>` gathers the request body's pieces
 * (16-64 KiB socket reads) into ~1 MiB `writev` calls at that offset, one write in flight while the next batch
 * gathers, then `fdatasync`s (the same durability ValiBlob gives each chunk before its offset advances;
 * `RAW_FSYNC=0` turns it off) and answers 204. No parsing, no sessions, no hashing.
 *
 * Why writev: measured against `pipeline(req, fs.createWriteStream)` (one write per piece) and against copying the
 * pieces into two 1 MiB buffers, 512 MiB uploads, 2 rounds: on tmpfs writev reached 680-700 MiB/s at 8 MiB chunks
 * (copy 570-600, stream 300-310) and 370-430 at 1 MiB chunks (copy 280-410, stream 180-240) with the least CPU
 * (1.3-1.4 s/GiB at 8 MiB); on disk writev and copy were within noise of each other (320-470 MiB/s at 8 MiB),
 * both ahead of the stream (225).
 *
 * Run as a child process; prints `listening on http://127.0.0.1:<port>`.
 */
import { createServer, IncomingMessage } from 'node:http';
import { FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';

const directory = process.env.RAW_DIR ?? '/tmp';
const fsync = process.env.RAW_FSYNC !== '0';
/** Bytes gathered before one writev: large enough that syscalls cost nothing next to the copy into the page cache. */
const GATHER_BYTES = 1024 * 1024;

/** Write the body into `file` from `position` in ~1 MiB writevs, one in flight while the next batch gathers. */
async function writeGathered(req: IncomingMessage, file: FileHandle, position: number): Promise<void> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let inFlight: Promise<unknown> | undefined;
  try {
    // Socket reads hand over fresh buffers (never reused by Node), so holding them until the writev is safe.
    for await (const piece of req as AsyncIterable<Buffer>) {
      pending.push(piece);
      pendingBytes += piece.length;
      if (pendingBytes >= GATHER_BYTES) {
        await inFlight;
        inFlight = file.writev(pending, position);
        position += pendingBytes;
        pending = [];
        pendingBytes = 0;
      }
    }
    await inFlight;
    if (pendingBytes > 0) await file.writev(pending, position);
  } finally {
    // A body that fails mid-way must not leave the last write's rejection unhandled (it would end the process).
    await inFlight?.catch(() => undefined);
  }
}

const server = createServer(async (req, res) => {
  const match = /^\/raw\/([A-Za-z0-9._-]+)\?offset=(\d+)$/.exec(req.url ?? '');
  if (req.method !== 'PUT' || !match) {
    res.writeHead(404).end();
    return;
  }
  const offset = Number(match[2]);
  try {
    // 'a' would ignore the position: write in place, creating the file on the first chunk.
    const file = await open(join(directory, match[1]), offset === 0 ? 'w' : 'r+');
    try {
      await writeGathered(req, file, offset);
      if (fsync) await file.datasync();
    } finally {
      await file.close();
    }
    res.writeHead(204).end();
  } catch (error) {
    res.writeHead(500).end(String(error));
  }
});
server.requestTimeout = 0;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(`raw pipe listening on http://127.0.0.1:${port}`);
});
