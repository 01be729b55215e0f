/**
 * Typed errors of the library, one entry point for all of them (`import { … } from './errors/vali-blob.errors'`).
 * Every error carries a stable machine-readable `code` and the HTTP status the REST and tus layers answer with,
 * so no transport has to guess (and bad input never becomes a 500). Each family lives in its own file:
 *
 * - `vali-blob-error.ts`: the base class `ValiBlobError` and the `ValiBlobErrorCode` union;
 * - `bootstrap.errors.ts`: options, registration, unsupported features, unknown provider names;
 * - `request.errors.ts`: malformed or refused requests;
 * - `upload.errors.ts`: upload state and blob conflicts;
 * - `backend.errors.ts`: store and storage availability, load shedding, duplicate session ids;
 * - `policy.errors.ts`: uploads the upload policy refused (validation, sniffing, scanning, quotas, hooks).
 */
export * from './vali-blob-error';
export * from './bootstrap.errors';
export * from './request.errors';
export * from './upload.errors';
export * from './backend.errors';
export * from './policy.errors';
