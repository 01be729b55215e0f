import { httpRequest, TestResponse } from '../support/http-client';

/** tus request headers every tus call needs. */
export const TUS_HEADERS = { 'Tus-Resumable': '1.0.0' };

/** REST and tus calls against one server, each as a caller identified by `auth` headers. */
export class OwnershipClient {
  constructor(
    /** `http://127.0.0.1:<port>` (plus any global prefix). */
    readonly base: string,
    /** Headers naming the caller (`x-user`, `Authorization`, … or none for anonymous). */
    readonly auth: Record<string, string> = {},
  ) {}

  /** POST /uploads with a JSON body. */
  create(body: Record<string, unknown>): Promise<TestResponse> {
    return httpRequest(`${this.base}/uploads`, {
      method: 'POST',
      headers: { ...this.auth, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  /** PUT one chunk. */
  put(id: string, offset: number, data: Buffer): Promise<TestResponse> {
    return httpRequest(`${this.base}/uploads/${id}/chunks/${offset}`, {
      method: 'PUT',
      headers: { ...this.auth, 'Content-Type': 'application/octet-stream' },
      body: data,
    });
  }

  status(id: string): Promise<TestResponse> {
    return httpRequest(`${this.base}/uploads/${id}`, { headers: this.auth });
  }

  complete(id: string): Promise<TestResponse> {
    return httpRequest(`${this.base}/uploads/${id}/complete`, { method: 'POST', headers: this.auth });
  }

  abort(id: string): Promise<TestResponse> {
    return httpRequest(`${this.base}/uploads/${id}`, { method: 'DELETE', headers: this.auth });
  }

  /** Create + one chunk with every byte; returns the upload id (asserting each step). */
  async stage(body: Record<string, unknown>, data: Buffer): Promise<string> {
    const created = await this.create({ totalSize: data.length, ...body });
    if (created.status !== 201) throw new Error(`create: ${created.status} ${created.body.toString()}`);
    const id = created.json.uploadId as string;
    const put = await this.put(id, 0, data);
    if (put.status !== 200) throw new Error(`put: ${put.status} ${put.body.toString()}`);
    return id;
  }

  /** Stage and complete; returns the completion answer. */
  async upload(body: Record<string, unknown>, data: Buffer): Promise<TestResponse> {
    return this.complete(await this.stage(body, data));
  }

  /** GET (or HEAD) a raw `/blobs/...` target, sent exactly as given (encoded variants stay encoded). */
  blob(target: string, method = 'GET'): Promise<TestResponse> {
    return httpRequest(`${this.base}/blobs/${target}`, { method, headers: this.auth });
  }

  /** tus POST; returns the response (Location names the upload). */
  tusCreate(headers: Record<string, string>, body?: Buffer): Promise<TestResponse> {
    const extra: Record<string, string> = body ? { 'Content-Type': 'application/offset+octet-stream' } : {};
    const all = { ...TUS_HEADERS, ...this.auth, ...extra, ...headers };
    return httpRequest(`${this.base}/files`, { method: 'POST', headers: all, body });
  }

  /** tus call on one upload URL path (`/files/<id>`). */
  tus(path: string, method: string, headers: Record<string, string> = {}, body?: Buffer): Promise<TestResponse> {
    return httpRequest(`${this.base}${path}`, { method, headers: { ...TUS_HEADERS, ...this.auth, ...headers }, body });
  }

  /** A whole tus upload in the creation request; returns the upload URL path. */
  async tusUpload(
    data: Buffer,
    metadata: Record<string, string> = {},
    extra: Record<string, string> = {},
  ): Promise<string> {
    const encoded = Object.entries(metadata)
      .map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`)
      .join(',');
    const headers: Record<string, string> = { 'Upload-Length': String(data.length), ...extra };
    if (encoded) headers['Upload-Metadata'] = encoded;
    const res = await this.tusCreate(headers, data.length > 0 ? data : undefined);
    if (res.status !== 201) throw new Error(`tus create: ${res.status} ${res.body.toString()}`);
    return new URL(String(res.headers.location), 'http://x').pathname;
  }
}
