/**
 * Counts the S3 requests a server process sends, by kind, with an AWS SDK middleware on its client. It sits in
 * the `deserialize` step, below the retry middleware, so every attempt that went over the wire counts once.
 * No proxy: an extra process relaying every byte would cost CPU on the 2 cores the measured servers share.
 */
import type { S3Client } from '@aws-sdk/client-s3';

/** What a key is, by the naming of ValiBlob's staging area and of @tus/s3-store. */
function keyRole(key: unknown): string {
  if (typeof key !== 'string') return '';
  if (key.endsWith('.info')) return ' .info';
  if (key.endsWith('.part')) return ' .part';
  if (/\/p-[0-9a-f]{32}$/.test(key)) return ' segment';
  if (/\/t-[0-9a-f]{32}$/.test(key)) return ' tail';
  return '';
}

/** Objects with a role in their key are told apart (PutObject segment, PutObject tail, HeadObject .part, …). */
const BY_ROLE = new Set(['PutObject', 'GetObject', 'HeadObject', 'DeleteObject']);

/** Add the counting middleware to `client`; returns the live counts (kind → requests). */
export function countS3Requests(client: Pick<S3Client, 'middlewareStack'>): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (kind: string) => counts.set(kind, (counts.get(kind) ?? 0) + 1);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
      const input = args.input as { Key?: unknown };
      // The SDK numbers its attempts in this header: a retry shows as such.
      const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
      const attempt = Number(/attempt=(\d+)/.exec(headers['amz-sdk-request'] ?? '')?.[1] ?? 1);
      const base = BY_ROLE.has(command) ? `${command}${keyRole(input.Key)}` : command;
      const kind = attempt > 1 ? `${base} retry` : base;
      try {
        const out = await next(args);
        const status = (out.response as { statusCode?: number }).statusCode ?? 0;
        add(status >= 300 ? `${kind} (${status})` : kind);
        return out;
      } catch (error) {
        add(`${kind} (failed)`);
        throw error;
      }
    },
    { step: 'deserialize', name: 'benchS3RequestCounter', priority: 'low' },
  );
  return counts;
}
