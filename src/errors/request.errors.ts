import { printable } from './printable';
import { ValiBlobError, ValiBlobErrorCode } from './vali-blob-error';

/* Requests refused before any upload state is touched: malformed input, unacceptable content, no permission. */

/**
 * A blob path failed validation or would escape the storage root.
 * @publicApi
 */
export class InvalidPathError extends ValiBlobError {
  constructor(path: string, reason: string) {
    super('INVALID_PATH', `Invalid path: ${reason}`, 400, { reason, path: printable(path) });
  }
}

/**
 * Generic malformed input (headers, body, parameters).
 * @publicApi
 */
export class InvalidRequestError extends ValiBlobError {
  constructor(
    message: string,
    code: Extract<
      ValiBlobErrorCode,
      'INVALID_REQUEST' | 'INVALID_OFFSET' | 'INVALID_LENGTH' | 'INVALID_METADATA' | 'INVALID_RANGE'
    > = 'INVALID_REQUEST',
    details: Record<string, unknown> = {},
  ) {
    super(code, message, 400, details);
  }
}

/**
 * The request body has a content type the endpoint does not take.
 * @publicApi
 */
export class UnsupportedContentTypeError extends ValiBlobError {
  constructor(contentType: string | undefined, expected: string[]) {
    super(
      'UNSUPPORTED_CONTENT_TYPE',
      `Content-Type ${contentType ? printable(contentType) : '(none)'} is not accepted; use ${expected.join(' or ')}`,
      415,
      { expected },
    );
  }
}

/**
 * The checksum algorithm named by the client is not enabled.
 * @publicApi
 */
export class UnsupportedChecksumAlgorithmError extends ValiBlobError {
  constructor(algorithm: string, supported: readonly string[]) {
    super('UNSUPPORTED_CHECKSUM_ALGORITHM', `Checksum algorithm ${printable(algorithm)} is not supported`, 400, {
      supported: [...supported],
    });
  }
}

/**
 * The authorize hook refused the request.
 * @publicApi
 */
export class UnauthorizedError extends ValiBlobError {
  constructor(message = 'Unauthorized') {
    super('UNAUTHORIZED', message, 401);
  }
}

/**
 * The authorize hook refused the request for an authenticated caller.
 * @publicApi
 */
export class ForbiddenError extends ValiBlobError {
  constructor(message = 'Forbidden') {
    super('FORBIDDEN', message, 403);
  }
}

/**
 * A request names an `Upload-Draft-Interop-Version` of the IETF resumable-upload draft this server does not
 * speak (or a value that is not an integer): 400, nothing is processed, and no 104 is sent (draft appendix).
 * @publicApi
 */
export class UnsupportedInteropVersionError extends ValiBlobError {
  constructor(value: string, supported: readonly number[]) {
    super(
      'UNSUPPORTED_INTEROP_VERSION',
      `Upload-Draft-Interop-Version ${printable(value)} is not supported; use one of ${supported.join(', ')}`,
      400,
      { 'supported-versions': [...supported] },
    );
  }
}

/**
 * The application's body parser (Express `json`/`urlencoded`, Fastify `application/json`/`text/plain`) read an
 * upload's content before the route ran, and no exact copy is left (`rawBody` off): the bytes cannot be stored
 * faithfully, so nothing is. 415 — send the content with a type no parser reads, or enable `rawBody`.
 * @publicApi
 */
export class BodyAlreadyParsedError extends ValiBlobError {
  constructor(contentType: string | undefined) {
    super(
      'UNSUPPORTED_CONTENT_TYPE',
      `The application's body parser already read this ${contentType ? printable(contentType) : 'untyped'} content, ` +
        'so it cannot be stored byte for byte; create with Upload-Complete: ?0 and append with ' +
        "application/partial-upload, or enable the platform's rawBody option",
      415,
    );
  }
}
