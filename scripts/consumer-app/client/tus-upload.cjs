// Node tus client (tus-js-client, as docs/tus.md shows for Node): uploads one file in fixed-size chunks and
// prints one line `TUS_UPLOAD_RESULT <json>`. Usage: node client/tus-upload.cjs <endpoint> <file> <chunkSize>
// [protocol] — protocol `ietf-draft-05` speaks the IETF resumable-upload draft to the same endpoint (docs/rufh.md).
'use strict';
const { readFileSync } = require('node:fs');
const { basename } = require('node:path');
const tus = require('tus-js-client');

const [endpoint, file, chunkSize, protocol] = process.argv.slice(2);
const data = readFileSync(file);
const chunkOffsets = [];
// Answers given as the IETF draft (they carry its interop version): proves which protocol the server spoke.
let draftAnswers = 0;
const upload = new tus.Upload(data, {
  endpoint,
  chunkSize: Number(chunkSize),
  retryDelays: [],
  ...(protocol ? { protocol } : {}),
  metadata: { filename: basename(file), filetype: 'application/octet-stream' },
  onChunkComplete: (_chunk, accepted) => chunkOffsets.push(accepted),
  onAfterResponse: (_req, res) => {
    if (res.getHeader('Upload-Draft-Interop-Version')) draftAnswers += 1;
  },
  onError: (error) => {
    console.error(`tus upload failed: ${error}`);
    process.exit(1);
  },
  onSuccess: () => {
    console.log(
      `TUS_UPLOAD_RESULT ${JSON.stringify({ url: upload.url, size: data.length, chunkOffsets, draftAnswers })}`,
    );
  },
});
upload.start();
