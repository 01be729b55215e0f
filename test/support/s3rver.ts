import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// s3rver ships no types; the surface used here is tiny.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- s3rver ships no types: require() plus a cast
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  middleware: Array<(ctx: KoaContext, next: () => Promise<void>) => Promise<void>>;
};

// eslint-disable-next-line @typescript-eslint/no-require-imports -- s3rver ships no types: require() plus a cast
const S3Error = require('s3rver/lib/models/error') as new (code: string, message: string, detail?: object) => Error;

/** The part of Koa's context the shims touch. */
interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  headers: Record<string, string | string[] | undefined>;
  store: { existsObject(bucket: string, key: string): Promise<boolean> };
}

/**
 * s3rver 3.7 builds ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node >= 17) no longer has, so
 * every truncated V2 listing answers 500. This shim serves `list-type=2` requests through s3rver's V1 code path
 * (`start-after` becomes `marker`); the response carries `Contents` and `IsTruncated` as V2 does, just no
 * `NextContinuationToken`. The S3 provider pages with `StartAfter`, so it needs nothing more.
 */
async function listV2Shim(ctx: KoaContext, next: () => Promise<void>): Promise<void> {
  if (ctx.method === 'GET' && ctx.query['list-type'] === '2' && ctx.query['continuation-token'] === undefined) {
    const query = { ...ctx.query };
    delete query['list-type'];
    delete query['fetch-owner'];
    if (query['start-after'] !== undefined) {
      query.marker = query['start-after'];
      delete query['start-after'];
    }
    ctx.query = query;
  }
  await next();
}

/**
 * s3rver 3.7 ignores `If-None-Match: *` on writes (it only reads the header on GET). AWS S3 (since 2024), MinIO
 * and R2 refuse such a write with 412 PreconditionFailed when the key exists. This opt-in shim gives s3rver that
 * behaviour for PutObject, CopyObject and CompleteMultipartUpload so the provider's 412 handling runs against a
 * real server. It checks then writes in one process; the real services make that atomic.
 */
async function conditionalWriteShim(ctx: KoaContext, next: () => Promise<void>): Promise<void> {
  const query = ctx.query;
  const isWrite =
    (ctx.method === 'PUT' && query.uploadId === undefined && query.tagging === undefined) ||
    (ctx.method === 'POST' && query.uploadId !== undefined);
  if (isWrite && ctx.headers['if-none-match'] === '*') {
    const [, bucket, ...rest] = ctx.path.split('/');
    const key = rest.map(decodeURIComponent).join('/');
    if (key && (await ctx.store.existsObject(bucket, key))) {
      throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
        Condition: 'If-None-Match',
      });
    }
  }
  await next();
}

/** Options of `startS3rver`. */
export interface S3rverOptions {
  /** Honour `If-None-Match: *` on writes as AWS S3 does (see `conditionalWriteShim`). Default false. */
  conditionalWrites?: boolean;
}

/** An s3rver instance running in this process, with one bucket. */
export interface S3rverHandle {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  bucket: string;
  /** Credentials s3rver accepts (its fixed defaults). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** A client configured the way s3rver needs (path style, checksums only when required). */
  client: S3Client;
  /** Stop the server and delete its data directory. */
  stop(): Promise<void>;
}

/**
 * Start s3rver in-process on a free loopback port with a fresh data directory and one bucket. Reused by the
 * provider specs and by benchmarks. s3rver lacks ListParts, AbortMultipartUpload and ListMultipartUploads.
 */
export async function startS3rver(bucket = 'valiblob-test', options: S3rverOptions = {}): Promise<S3rverHandle> {
  const directory = await mkdtemp(join(tmpdir(), 'vb-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, resetOnClose: true });
  // Koa composes middleware when it starts listening: put the shim first.
  server.middleware.unshift(listV2Shim);
  // Right before the router (the last middleware), after s3rver's XML error rendering is in place.
  if (options.conditionalWrites) server.middleware.splice(server.middleware.length - 1, 0, conditionalWriteShim);
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const client = createS3rverClient(endpoint, credentials);
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    endpoint,
    bucket,
    credentials,
    client,
    async stop() {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * SDK client settings s3rver needs: path-style addressing, and no default CRC checksums (recent SDKs send
 * them on every request and s3rver rejects or ignores the trailers).
 */
export function createS3rverClient(
  endpoint: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
