/**
 * "sha256 alone": hashes `SHA_BYTES` (default 1 GiB) from one 4 MiB random buffer with Node's sha256 and prints
 * `{"cpuSeconds":…,"seconds":…,"bytes":…}` as one JSON line. Started by `sha256Alone()` with the same environment
 * as the benchmark's servers, so in no-SHA mode it measures the digest as a server on a CPU without SHA extensions
 * would pay it. The digest's cost measured alone is what the CPU target allows on top of @tus/server's.
 */
import { createHash, randomBytes } from 'node:crypto';

const bytes = Number(process.env.SHA_BYTES ?? 1024 ** 3);
const block = randomBytes(4 * 1024 * 1024);
// A short warm-up so the measurement does not include the first call's setup.
createHash('sha256').update(block).digest();
const cpuBefore = process.cpuUsage();
const started = process.hrtime.bigint();
const hash = createHash('sha256');
for (let done = 0; done < bytes; done += block.length)
  hash.update(block.subarray(0, Math.min(block.length, bytes - done)));
hash.digest();
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const cpu = process.cpuUsage(cpuBefore);
console.log(JSON.stringify({ cpuSeconds: (cpu.user + cpu.system) / 1e6, seconds, bytes }));
