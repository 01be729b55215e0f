/**
 * ValiBlob with its Azure provider (`AzureBlobStorageProvider`) on the Azurite the cloud benchmark runs
 * (`AZURE_CONNECTION_STRING`, `AZURE_CONTAINER`), block size `AZURE_BLOCK_SIZE` and `AZURE_CONCURRENCY` block
 * uploads in flight, memory sessions. Prints `listening on http://127.0.0.1:<port>`.
 */
import { AzureBlobStorageProvider } from '../../src/azure';
import { startCloudValiBlob } from './cloud-valiblob.app';

const azure = new AzureBlobStorageProvider({
  connectionString: process.env.AZURE_CONNECTION_STRING,
  containerName: process.env.AZURE_CONTAINER,
  blockSize: Number(process.env.AZURE_BLOCK_SIZE),
  maxConcurrentBlocks: Number(process.env.AZURE_CONCURRENCY),
});

startCloudValiBlob('azure', azure).catch((error) => {
  console.error(error);
  process.exit(1);
});
