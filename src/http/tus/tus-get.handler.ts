import { Inject, Injectable } from '@nestjs/common';
import { BlobNotFoundError, UploadGoneError, UploadIncompleteError } from '../../errors/vali-blob.errors';
import { UploadStatus } from '../../sessions/upload-session.model';
import { StorageRegistry } from '../../storage/storage.registry';
import { ResumableUploadService } from '../../uploads/resumable-upload.service';
import { VALIBLOB_OPTIONS } from '../../vali-blob.constants';
import type { ResolvedValiBlobOptions } from '../../vali-blob.options';
import { respondWithDownload } from '../download.responder';
import { authorizeRequest } from '../http-exchange';
import { FILENAME_KEYS, pickMetadata } from './tus-metadata';
import type { TusRequest } from './tus-request';

/**
 * `GET /files/:id`: download a completed upload, as tusd does (a plain download: browsers send no
 * `Tus-Resumable`). Served by the one download responder, like the blob route.
 */
@Injectable()
export class TusGetHandler {
  constructor(
    private readonly uploads: ResumableUploadService,
    private readonly registry: StorageRegistry,
    @Inject(VALIBLOB_OPTIONS) private readonly options: ResolvedValiBlobOptions,
  ) {}

  /** Stream the blob (Range supported) named by the client's `filename`/`name` metadata; 409 until complete. */
  async handle(ctx: TusRequest, id: string): Promise<void> {
    const owner = await authorizeRequest(this.options, ctx.exchange, 'read', { uploadId: id });
    const session = await this.uploads.getSession(id, { owner });
    if (session.status === UploadStatus.Aborted) throw new UploadGoneError(id, 'aborted');
    if (session.status !== UploadStatus.Complete) {
      throw new UploadIncompleteError(session.uploadedBytes, session.totalSize);
    }
    const provider = this.registry.get(session.provider);
    const info = await provider.stat(session.path);
    if (!info) throw new BlobNotFoundError(session.path);
    const fileName = pickMetadata(session.metadata, FILENAME_KEYS) ?? session.path.split('/').pop();
    await respondWithDownload(ctx.exchange, { provider, path: session.path, info, fileName, headers: ctx.headers });
  }
}
