/**
 * The raw baseline of the throughput benchmark: the least a Node server can do to land an upload on disk.
 * `PUT /raw/<name>?offset=<n>` pipes the request body into `<RAW_DIR>/<name>` at that offset with
 * `stream.pipeline(req, fileWriteStream)`, then `fdatasync`s (the same durability ValiBlob gives each chunk before
 * its offset advances; `RAW_FSYNC=0` turns it off) and answers 204. No parsing, no sessions, no hashing.
 *
 * Run as a child process; prints `listening on http://127.0.0.1:<port>`.
 */
import { createServer } from 'node:http';
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

const directory = process.env.RAW_DIR ?? '/tmp';
const fsync = process.env.RAW_FSYNC !== '0';

const server = createServer(async (req, res) => {
  const match = /^\/raw\/([A-Za-z0-9._-]+)\?offset=(\d+)$/.exec(req.url ?? '');
  if (req.method !== 'PUT' || !match) {
    res.writeHead(404).end();
    return;
  }
  const offset = Number(match[2]);
  try {
    const file = join(directory, match[1]);
    // 'a' would ignore the position: write in place, creating the file on the first chunk.
    await pipeline(req, createWriteStream(file, { flags: offset === 0 ? 'w' : 'r+', start: offset }));
    if (fsync) {
      // fdatasync through a second descriptor flushes the same inode's dirty pages.
      const handle = await open(file, 'r+');
      try {
        await handle.datasync();
      } finally {
        await handle.close();
      }
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
