/**
 * Blob metadata of S3 (`x-amz-meta-*`) and Azure (`x-ms-meta-*`) travels in HTTP headers, which only carry ASCII
 * safely. Values are stored `encodeURIComponent`-encoded and decoded on read, so any string round-trips exactly;
 * a value written by another tool that is not valid percent-encoding is returned as it is.
 */
export function encodeHeaderMetadata(metadata: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) out[key] = encodeURIComponent(value);
  return out;
}

/** Inverse of `encodeHeaderMetadata` (keys arrive lower-cased, which the portable key rule already is). */
export function decodeHeaderMetadata(metadata: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata ?? {})) {
    try {
      out[key] = decodeURIComponent(value);
    } catch {
      out[key] = value;
    }
  }
  return out;
}
