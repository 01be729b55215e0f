import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Minimal real file headers for the policy suites, padded to a size. */

/** A PNG: signature + IHDR chunk, then filler. */
export function pngBytes(size: number): Buffer {
  const head = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    Buffer.from([0, 0, 0, 13]),
    Buffer.from('IHDR'),
    Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]),
    Buffer.from([0x1f, 0x15, 0xc4, 0x89]),
  ]);
  return pad(head, size, 0x00);
}

/** A PDF: `%PDF-1.7` header, then filler that is not text-like. */
export function pdfBytes(size: number): Buffer {
  return pad(Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1'), size, 0x20);
}

function pad(head: Buffer, size: number, fill: number): Buffer {
  const out = Buffer.alloc(Math.max(size, head.length), fill);
  head.copy(out);
  return out;
}

/** Every file under a directory, relative (staging included): what a rejected upload must not leave. */
export async function filesUnder(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const rel = `${prefix}${entry.name}`;
    if (entry.isDirectory()) out.push(...(await filesUnder(join(dir, entry.name), `${rel}/`)));
    else out.push(rel);
  }
  return out;
}
