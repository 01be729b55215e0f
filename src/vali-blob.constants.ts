/**
 * DI token of the resolved options (defaults applied, validated): inject it to read the configuration in effect.
 *
 * @publicApi
 */
export const VALIBLOB_OPTIONS = 'VALIBLOB:OPTIONS';
/** DI token of the resolved static `http` option (mount paths); internal, not exported by the package. */
export const VALIBLOB_HTTP_OPTIONS = 'VALIBLOB:HTTP_OPTIONS';
/** Prefix of named storage provider tokens (see `getStorageToken`). */
export const STORAGE_TOKEN_PREFIX = 'VALIBLOB:STORAGE:';
/**
 * The tus protocol version the endpoint speaks (`Tus-Resumable`, `Tus-Version`).
 *
 * @publicApi
 */
export const TUS_VERSION = '1.0.0';
