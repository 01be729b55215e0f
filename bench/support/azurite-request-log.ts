import type { Readable } from 'node:stream';

/** Blob service operation of one access-log request line, from its method and query (`comp`, `restype`). */
function operation(method: string, query: URLSearchParams): string {
  const comp = query.get('comp');
  if (query.get('restype') === 'container') return `${method} container`;
  const names: Record<string, string> = {
    'PUT block': 'Put Block',
    'PUT blocklist': 'Put Block List',
    'PUT appendblock': 'Append Block',
    'PUT metadata': 'Set Blob Metadata',
    'PUT properties': 'Set Blob Properties',
    'PUT ': 'Put Blob',
    'GET blocklist': 'Get Block List',
    'GET ': 'Get Blob',
    'HEAD ': 'Get Blob Properties',
    'DELETE ': 'Delete Blob',
  };
  return names[`${method} ${comp ?? ''}`] ?? `${method} ${comp ?? ''}`.trim();
}

/**
 * Counts the requests Azurite served, by blob operation, from its access log on stdout (one line per request:
 * `"PUT /account/container/blob?comp=block&blockid=… HTTP/1.1" 201`). Counted at the store, so it sees every
 * request whichever client sent it. Answers other than 2xx are counted apart (`Get Blob Properties (404)`).
 */
export function countAzuriteRequests(stdout: Readable): {
  counts: Map<string, number>;
  /** Resolves once the log was quiet for 250 ms: lines of requests already answered have arrived. */
  settled(): Promise<void>;
  reset(): void;
} {
  const counts = new Map<string, number>();
  let partial = '';
  let lastData = Date.now();
  stdout.on('data', (data: Buffer) => {
    lastData = Date.now();
    const lines = (partial + data.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const match = /"([A-Z]+) ([^ ?]+)(?:\?([^ ]*))? HTTP\/[\d.]+" (\d{3})/.exec(line);
      if (!match) continue;
      const status = Number(match[4]);
      const kind = operation(match[1], new URLSearchParams(match[3] ?? ''));
      const key = status >= 300 ? `${kind} (${status})` : kind;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  });
  const settled = async () => {
    // The log reaches us through a pipe, a little after the answer reached the client.
    while (Date.now() - lastData < 250) await new Promise((resolve) => setTimeout(resolve, 50));
  };
  return { counts, settled, reset: () => counts.clear() };
}
