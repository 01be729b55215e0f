/**
 * The Azure peer of the cloud benchmark: `@tus/server` 2 with `@tus/azure-store` on the Azurite the benchmark
 * runs (`AZURE_CONNECTION_STRING`, `AZURE_CONTAINER`), mounted at `/files` on a plain Node http server. The store
 * keeps each upload as an append blob and appends every PATCH body as one block (it has no block-size option), and
 * keeps its upload records in its default in-memory cache. Prints `listening on http://127.0.0.1:<port>`.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { createServer } from 'node:http';

// Both packages are ESM; Node >= 20.19 loads them through require(esm).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- ESM-only package, loaded with require(esm)
const { Server } = require('@tus/server') as typeof import('@tus/server');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- ESM-only package, loaded with require(esm)
const { AzureStore } = require('@tus/azure-store') as typeof import('@tus/azure-store');

// The store builds `https://<account>.blob.core.windows.net` from an account name; Azurite needs a client.
const container = BlobServiceClient.fromConnectionString(process.env.AZURE_CONNECTION_STRING!).getContainerClient(
  process.env.AZURE_CONTAINER!,
);
const tus = new Server({ path: '/files', datastore: new AzureStore({ client: container }) });
const server = createServer((req, res) => void tus.handle(req, res));
server.requestTimeout = 0;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(`@tus/server + @tus/azure-store listening on http://127.0.0.1:${port}`);
});
