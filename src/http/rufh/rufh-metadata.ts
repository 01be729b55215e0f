import { parse as parseContentDisposition } from 'content-disposition';
import { InvalidRequestError } from '../../errors/vali-blob.errors';
import type { ResolvedValiBlobOptions } from '../../vali-blob.options';
import type { HttpExchange } from '../http-exchange';
import { metadataContentType, parseTusMetadata } from '../tus/tus-metadata';
import { TUS_CONTENT_TYPE } from '../tus/tus-protocol';
import { PARTIAL_UPLOAD_TYPE } from './rufh-protocol';
import { representationType } from './rufh-representation-type';

/** What a creation request says about the representation it starts (draft §4.2, "representation metadata"). */
export interface RufhRepresentation {
  /** Client metadata: `filename` from `Content-Disposition`, plus tus `Upload-Metadata` pairs if sent. */
  metadata: Record<string, string>;
  /** The representation's media type, or `null`. */
  contentType: string | null;
}

/** Content types that label the transfer, not the representation: never recorded as the blob's type. */
const TRANSFER_TYPES = [PARTIAL_UPLOAD_TYPE, TUS_CONTENT_TYPE];

/**
 * Metadata of a draft creation request. `Content-Disposition` (RFC 6266, parsed by the `content-disposition`
 * library, `filename*` decoded) names the file; `Content-Type` is the representation's type. tus `Upload-Metadata`
 * is accepted too, because tus-js-client sends it in its draft modes; a `Content-Disposition` file name wins over
 * it. Metadata is untrusted input (draft §12): the name is only ever used sanitised (`endpointUploadPath`), and the
 * type must be a header-safe MIME type (the engine checks it).
 */
export function representationOf(exchange: HttpExchange, options: ResolvedValiBlobOptions): RufhRepresentation {
  const metadata = parseTusMetadata(exchange.header('upload-metadata'), options.tus.maxMetadataSize);
  const disposition = exchange.header('content-disposition');
  if (disposition !== undefined) {
    const filename = fileNameOf(disposition);
    if (filename !== undefined) metadata.filename = filename;
  }
  const type = representationType(exchange);
  const declared = type.media && !TRANSFER_TYPES.includes(type.media) ? type.value!.trim() : null;
  return { metadata, contentType: declared ?? metadataContentType(metadata) };
}

function fileNameOf(disposition: string): string | undefined {
  try {
    const filename = parseContentDisposition(disposition).parameters.filename;
    return typeof filename === 'string' && filename !== '' ? filename : undefined;
  } catch {
    throw new InvalidRequestError('Content-Disposition is not a valid RFC 6266 value', 'INVALID_METADATA');
  }
}
