import { InvalidRequestError } from '../../errors/vali-blob.errors';
import { ChecksumAlgorithm, ChunkChecksum, parseUploadChecksum } from '../../uploads/upload-checksum';
import { HttpExchange, parseNonNegativeInteger } from '../http-exchange';

/** The request's media type, lower-case, without parameters. */
export function mediaType(exchange: HttpExchange): string | undefined {
  return exchange.header('content-type')?.split(';')[0].trim().toLowerCase() || undefined;
}

/** Whether the request announces a body (a length above 0, or chunked transfer). */
export function hasBody(exchange: HttpExchange): boolean {
  const length = exchange.header('content-length');
  if (length !== undefined) return length.trim() !== '0';
  return exchange.header('transfer-encoding') !== undefined;
}

/** `Content-Length` as a number, `null` when absent (chunked); 400 `INVALID_LENGTH` when malformed. */
export function contentLength(exchange: HttpExchange): number | null {
  const header = exchange.header('content-length');
  return header === undefined ? null : parseNonNegativeInteger(header, 'Content-Length', 'INVALID_LENGTH');
}

/** `Upload-Checksum` header, or (checksum-trailer) a reader of the trailer once the body has ended. */
export function chunkChecksum(
  exchange: HttpExchange,
  algorithms: readonly ChecksumAlgorithm[],
): ChunkChecksum | (() => ChunkChecksum | undefined) | undefined {
  const header = exchange.header('upload-checksum');
  if (header !== undefined) return parseUploadChecksum(header, algorithms);
  const trailers = (exchange.header('trailer') ?? '').split(',');
  const announced = trailers.some((t) => t.trim().toLowerCase() === 'upload-checksum');
  if (!announced) return undefined;
  return () => {
    const trailer = exchange.req.trailers['upload-checksum'];
    // The client promised a checksum: a missing one means the body cannot be trusted, so it is discarded.
    if (trailer === undefined) throw new InvalidRequestError('The announced Upload-Checksum trailer did not arrive');
    return parseUploadChecksum(trailer, algorithms);
  };
}
