/**
 * What `@tus/s3-store` 2.0.7 sends to S3 for an upload, derived from its source (node_modules/@tus/s3-store/
 * src/index.ts) for the benchmark's shape: PATCHes that are whole multiples of its part size (≥ 5 MiB), so no
 * incomplete part (`<id>.part`) ever exists, and its default in-memory metadata cache (`MemoryKvStore`), which its
 * first read of `<id>.info` fills, stays warm.
 */

/** Request counts (kind → requests) @tus/s3-store's design needs for one upload of `size` in `chunk` PATCHes. */
export function tusS3StoreRequests(size: number, chunk: number, partSize: number): Record<string, number> {
  const patches = Math.ceil(size / chunk);
  const parts = Math.ceil(size / partSize);
  // ListParts answers up to 1,000 parts per page: one page per call below that.
  const pages = (partCount: number) => Math.max(1, Math.ceil(partCount / 1000));
  let listParts = 0;
  for (let patch = 0; patch < patches; patch += 1) {
    const before = Math.floor((patch * chunk) / partSize);
    // PatchHandler.send → S3Store.getUpload → retrieveParts, then S3Store.write → retrieveParts.
    listParts += 2 * pages(before);
  }
  // S3Store.write of the last PATCH → retrieveParts before finishMultipartUpload.
  listParts += pages(parts);
  return {
    // POST: S3Store.create → createMultipartUpload, then saveMetadata → putObject `<id>.info`.
    CreateMultipartUpload: 1,
    'PutObject .info': 1,
    // The first PATCH's getMetadata: saveMetadata does not fill the cache, so it reads `<id>.info` once.
    'GetObject .info': 1,
    ListParts: listParts,
    // S3Store.getUpload → getIncompletePartSize → headObject `<id>.part` (404 when there is none).
    'HeadObject .part (404)': patches,
    // S3Store.write → downloadIncompletePart → getIncompletePart → getObject `<id>.part` (404 when there is none).
    'GetObject .part (404)': patches,
    // S3Store.uploadParts: StreamSplitter cuts the body into part files in os.tmpdir(), one uploadPart each.
    UploadPart: parts,
    // S3Store.write, last PATCH → finishMultipartUpload.
    CompleteMultipartUpload: 1,
  };
}

/** How the derivation reads, for the benchmark's notes. */
export const TUS_S3_DERIVATION =
  '@tus/s3-store per PATCH, derived from node_modules/@tus/s3-store/src/index.ts (2.0.7): PatchHandler.send → ' +
  'S3Store.getUpload = getMetadata (GetObject <id>.info on the first PATCH, as create does not fill the cache; ' +
  'later only on a cold cache: restart or another instance) + ' +
  'retrieveParts (ListParts, a page per 1,000 parts, listing every part so far) + getIncompletePartSize ' +
  '(HeadObject <id>.part, 404); then S3Store.write = getMetadata (cache) + retrieveParts (ListParts again) + ' +
  'downloadIncompletePart (GetObject <id>.part, 404) + uploadParts (each part spooled to a temp file by ' +
  'StreamSplitter, then UploadPart; a piece under 5 MiB that is not the end goes to PutObject <id>.part and the ' +
  'next PATCH adds GetObject + DeleteObject of it); the last PATCH adds ListParts + CompleteMultipartUpload. ' +
  'POST = CreateMultipartUpload + PutObject <id>.info. So 5 requests per one-part PATCH, 4 of them besides the data.';
