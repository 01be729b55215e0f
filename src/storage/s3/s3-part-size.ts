/**
 * Smallest part S3 accepts (every part but the last).
 * @publicApi
 */
export const S3_MIN_PART_SIZE = 5 * 1024 * 1024;
/**
 * Most parts one multipart upload may have.
 * @publicApi
 */
export const S3_MAX_PARTS = 10_000;
/** Largest single part S3 accepts. */
export const S3_MAX_PART_SIZE = 5 * 1024 * 1024 * 1024;
/** Largest object S3 stores (5 TiB). */
export const S3_MAX_OBJECT_SIZE = 5 * 1024 * 1024 * 1024 * 1024;

const MiB = 1024 * 1024;

/**
 * Fixed part size of one multipart upload, chosen once at begin so part numbers can be derived from offsets:
 * at least `preferred` (never under 5 MiB) and large enough that `size` fits in `maxParts` parts, rounded up to
 * whole MiB. `size` is the declared total, or the assumed maximum when the length is deferred.
 * @publicApi
 */
export function choosePartSize(size: number, preferred: number, maxParts = S3_MAX_PARTS): number {
  const floor = Math.max(preferred, S3_MIN_PART_SIZE);
  const needed = Math.ceil(size / maxParts);
  const partSize = Math.max(floor, Math.ceil(needed / MiB) * MiB);
  if (partSize > S3_MAX_PART_SIZE) throw new RangeError(`An object of ${size} bytes does not fit in ${maxParts} parts`);
  return partSize;
}
