import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { uploadLog } from '../common/upload-log';
import type { UploadRejection } from '../errors/policy.errors';
import { UploadSessionView } from './upload-session.view';

/** Event names, fired exactly once per upload transition. */
export const UPLOAD_EVENTS = {
  started: 'upload.started',
  chunk: 'upload.chunk',
  completed: 'upload.completed',
  aborted: 'upload.aborted',
  expired: 'upload.expired',
  rejected: 'upload.rejected',
} as const;

/** Payloads per event. */
export interface UploadEventMap {
  'upload.started': { session: UploadSessionView };
  'upload.chunk': { session: UploadSessionView; offset: number; bytes: number };
  'upload.completed': { session: UploadSessionView };
  'upload.aborted': { session: UploadSessionView };
  'upload.expired': { session: UploadSessionView };
  'upload.rejected': { session: UploadSessionView; rejection: UploadRejection };
}

/** Name of one upload event. */
export type UploadEventName = keyof UploadEventMap;

/**
 * Typed event bus of the engine. Inject it and `on('upload.completed', …)`. Listeners run after the transition
 * is stored; a throwing listener is logged and never fails the upload.
 */
@Injectable()
export class UploadEvents {
  private readonly emitter = new EventEmitter();
  private readonly logger = new Logger('ValiBlob');

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  /** Subscribe; returns a function that unsubscribes. */
  on<E extends UploadEventName>(event: E, listener: (payload: UploadEventMap[E]) => void | Promise<void>): () => void {
    // `ownerId` rides along from `emit` for the log only: listeners see the view, which has no owner.
    const wrapped = (payload: UploadEventMap[E], ownerId?: string | null) => {
      const failed = (error: unknown) =>
        this.logger.error(
          uploadLog(`Listener of ${event} failed`, { uploadId: payload.session.uploadId, ownerId }, `${error}`),
        );
      try {
        const result = listener(payload);
        if (result && typeof (result as Promise<void>).catch === 'function') (result as Promise<void>).catch(failed);
      } catch (error) {
        failed(error);
      }
    };
    this.emitter.on(event, wrapped);
    return () => this.emitter.off(event, wrapped);
  }

  /** Fire an event (engine use); `ownerId` is the session's owner, named in a failing listener's log line. */
  emit<E extends UploadEventName>(event: E, payload: UploadEventMap[E], ownerId?: string | null): void {
    this.emitter.emit(event, payload, ownerId);
  }
}
