/** Internal DI token of the resolved (defaulted, validated) options. */
export const VALIBLOB_OPTIONS = 'VALIBLOB:OPTIONS';
/** Internal DI token of the resolved static HTTP mount options. */
export const VALIBLOB_HTTP_OPTIONS = 'VALIBLOB:HTTP_OPTIONS';
/** Prefix of named storage provider tokens. */
export const STORAGE_TOKEN_PREFIX = 'VALIBLOB:STORAGE:';
/** Header carrying the tus protocol version. */
export const TUS_VERSION = '1.0.0';
