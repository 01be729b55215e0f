import { inspect } from 'node:util';

/** Which upload a log line is about: its id and, when the session has one, its owner. */
export interface UploadLogSubject {
  /** The upload id; absent where only the owner is known (the `onCreate` hook, quota of a deleted blob). */
  uploadId?: string;
  /** The owner of the session; `null`/absent for an ownerless one (then no owner is logged). */
  ownerId?: string | null;
}

/**
 * One log message about an upload, readable by both kinds of Nest logger at once, so the library needs no
 * knowledge of which one the app installed:
 *
 * - nestjs-pino's `Logger` spreads an object message into the JSON line: `msg`, `uploadId`, `ownerId` (and `err`,
 *   serialized by pino with its stack) become real fields next to `context: "ValiBlob"`.
 * - Nest's `ConsoleLogger` prints a non-plain object with `util.inspect`, which uses `[inspect.custom]`: one
 *   readable line `<msg> (upload <id>, owner <owner>)`, the stack on the following lines. In its `json: true`
 *   mode the object is the `message` field, with the same keys.
 * - Anything that turns the message into a string (`String(entry)`, a template literal) gets that same line.
 */
export class UploadLogEntry {
  /** The message without the upload suffix (pino's message key). */
  readonly msg: string;
  /** The upload id, when there is one. */
  readonly uploadId?: string;
  /** The session's owner, when it has one. */
  readonly ownerId?: string;
  /** The failure, when the line reports one (pino serializes it with its stack). */
  readonly err?: Error;

  constructor(msg: string, subject: UploadLogSubject, err?: Error) {
    this.msg = msg;
    // Only defined keys: they are spread into the JSON line as they are.
    if (subject.uploadId !== undefined) this.uploadId = subject.uploadId;
    if (subject.ownerId !== undefined && subject.ownerId !== null) this.ownerId = subject.ownerId;
    if (err !== undefined) this.err = err;
  }

  /** `<msg> (upload <id>, owner <owner>)`, then the stack of `err` when there is one. */
  toString(): string {
    const about = [
      this.uploadId !== undefined ? `upload ${this.uploadId}` : undefined,
      this.ownerId !== undefined ? `owner ${this.ownerId}` : undefined,
    ].filter((part) => part !== undefined);
    const line = about.length > 0 ? `${this.msg} (${about.join(', ')})` : this.msg;
    return this.err?.stack ? `${line}\n${this.err.stack}` : line;
  }

  /** What `ConsoleLogger` (through `util.inspect`) prints: the readable line, not the object's keys. */
  [inspect.custom](): string {
    return this.toString();
  }
}

/**
 * A log message about an upload: `logger.warn(uploadLog('Lease lost', session))`. Pass the session (or anything
 * with `uploadId`/`ownerId`). With the caught `error`, the line reads `<message>: <error message>` and an `Error`
 * is kept whole (`err`, logged with its stack).
 */
export function uploadLog(message: string, subject: UploadLogSubject, error?: unknown): UploadLogEntry {
  if (error === undefined) return new UploadLogEntry(message, subject);
  if (error instanceof Error) return new UploadLogEntry(`${message}: ${error.message}`, subject, error);
  return new UploadLogEntry(`${message}: ${String(error)}`, subject);
}
