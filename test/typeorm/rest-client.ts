import { createHash } from 'node:crypto';

/** Minimal client of the REST upload API (real HTTP via fetch) for the e2e specs. */
export class RestUploadClient {
  constructor(public base: string) {}

  async create(totalSize: number, path: string): Promise<{ uploadId: string; uploadedBytes: number; path: string }> {
    return this.json('POST', '/uploads', 201, { totalSize, path });
  }

  async chunk(uploadId: string, offset: number, body: Buffer): Promise<{ uploadedBytes: number }> {
    const res = await fetch(`${this.base}/uploads/${uploadId}/chunks/${offset}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(body.length) },
      body,
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`PUT chunk at ${offset}: ${res.status} ${text}`);
    return JSON.parse(text);
  }

  status(uploadId: string): Promise<{ uploadedBytes: number; status: string; totalSize: number }> {
    return this.json('GET', `/uploads/${uploadId}`, 200);
  }

  complete(uploadId: string): Promise<{ session: { status: string; checksum: string | null; path: string } }> {
    return this.json('POST', `/uploads/${uploadId}/complete`, 200);
  }

  private async json<T>(method: string, path: string, expected: number, body?: unknown): Promise<T> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== expected) throw new Error(`${method} ${path}: expected ${expected}, got ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
