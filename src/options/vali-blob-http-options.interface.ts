import type { AdminAuthorizeHook } from '../admin/admin-authorize';
import type { HttpMounts } from '../http/http-mounts';

/**
 * Static (module-definition time) options: where the controllers are mounted. With `forRootAsync` they sit next
 * to the factory, not in what it returns, because the mounted controllers are part of the module's composition.
 *
 * @publicApi
 */
export interface ValiBlobHttpOptions {
  /**
   * tus 1.0 endpoint; `false` to mount none.
   * @default { path: 'files' }
   */
  tus?: { path: string } | false;
  /**
   * REST three-step API; `false` to mount none.
   * @default { path: 'uploads' }
   */
  rest?: { path: string } | false;
  /**
   * Blob read route `/<path>/*` (GET with Range, HEAD); off by default because it exposes stored blobs.
   * @default false
   */
  blobs?: { path: string } | false;
  /**
   * Admin routes (`GET /<path>`, `POST /<path>/purge`, see docs/admin.md): list and purge uploads of every owner.
   * Off by default; `authorize` is required (bootstrap fails without it), so the surface is never open.
   * @default false
   */
  admin?: { path?: string; authorize: AdminAuthorizeHook } | false;
  /**
   * Keep the HTTP server's `requestTimeout` as the app set it. When `false` and tus or REST is mounted,
   * ValiBlob sets it to 0 at bootstrap so Node's 300 s default cannot cut a long chunk; stalled bodies end
   * after `idleTimeoutMs`.
   * @default false
   */
  keepRequestTimeout?: boolean;
}

/** The static `http` option after defaults: the mount paths (see `HttpMounts`) and the request-timeout choice. */
export interface ResolvedHttpOptions extends HttpMounts {
  keepRequestTimeout: boolean;
  /** The admin routes' guard; set exactly when `admin` is mounted. */
  adminAuthorize: AdminAuthorizeHook | null;
}
