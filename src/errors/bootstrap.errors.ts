import { printable } from './printable';
import { ValiBlobError } from './vali-blob-error';

/*
 * Configuration and capability errors: the module's options, its registration, features a backend lacks and
 * provider names that were never registered.
 */

/**
 * Module options failed validation; `problems` lists every one of them, not just the first.
 * @publicApi
 */
export class InvalidValiBlobOptionsError extends ValiBlobError {
  constructor(public readonly problems: string[]) {
    super('INVALID_OPTIONS', `Invalid ValiBlobModule options:\n - ${problems.join('\n - ')}`, 500, { problems });
  }
}

/**
 * ValiBlobModule was registered more than once in one application.
 * @publicApi
 */
export class ValiBlobAlreadyRegisteredError extends ValiBlobError {
  constructor() {
    super(
      'ALREADY_REGISTERED',
      'ValiBlobModule is registered more than once in this application. Call forRoot()/forRootAsync() once ' +
        '(in the root module) and use isGlobal: true or re-export the module instead.',
      500,
    );
  }
}

/**
 * A store or provider cannot do what was asked; documented per implementation.
 * @publicApi
 */
export class NotSupportedError extends ValiBlobError {
  constructor(feature: string, by: string) {
    super('NOT_SUPPORTED', `${feature} is not supported by ${by}`, 501, { feature });
  }
}

/**
 * A provider name that was not registered.
 * @publicApi
 */
export class UnknownProviderError extends ValiBlobError {
  constructor(name: string) {
    super('UNKNOWN_PROVIDER', `Storage provider "${printable(name)}" is not registered`, 400);
  }
}
