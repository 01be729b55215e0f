// Node tus client (tus-js-client, as docs/tus.md shows for Node): uploads one file in fixed-size chunks and
// prints one line `TUS_UPLOAD_RESULT <json>`. Usage: node client/tus-upload.cjs <endpoint> <file> <chunkSize>
'use strict';
const { readFileSync } = require('node:fs');
const { basename } = require('node:path');
const tus = require('tus-js-client');

const [endpoint, file, chunkSize] = process.argv.slice(2);
const data = readFileSync(file);
const chunkOffsets = [];
const upload = new tus.Upload(data, {
  endpoint,
  chunkSize: Number(chunkSize),
  retryDelays: [],
  metadata: { filename: basename(file), filetype: 'application/octet-stream' },
  onChunkComplete: (_chunk, accepted) => chunkOffsets.push(accepted),
  onError: (error) => {
    console.error(`tus upload failed: ${error}`);
    process.exit(1);
  },
  onSuccess: () => {
    console.log(`TUS_UPLOAD_RESULT ${JSON.stringify({ url: upload.url, size: data.length, chunkOffsets })}`);
  },
});
upload.start();
