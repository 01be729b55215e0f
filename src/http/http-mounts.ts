/**
 * Where the module mounted its routes: the mount paths of the `VALIBLOB_HTTP_OPTIONS` value (each without
 * slashes at its ends, `null` when that API is not mounted), as the platform hooks read them.
 */
export interface HttpMounts {
  tus: string | null;
  rest: string | null;
  blobs: string | null;
  /** The admin routes (`http.admin`); off unless configured with an `authorize` hook. */
  admin: string | null;
}
