/**
 * Azure metadata travels in `x-ms-meta-*` headers, which only carry ASCII. Values are stored
 * `encodeURIComponent`-encoded (the same rule as the S3 provider) and decoded on read, so any string round-trips
 * exactly; a value written by another tool that is not valid percent-encoding is returned as it is.
 */
export function encodeAzureMetadata(metadata: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) out[key] = encodeURIComponent(value);
  return out;
}

/** Inverse of `encodeAzureMetadata`. */
export function decodeAzureMetadata(metadata: Record<string, string> | undefined): Record<string, string> {
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
