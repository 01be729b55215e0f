/**
 * How the benchmark starts server processes, so every file under bench/ (and the cloud benchmark) starts its
 * servers the same way:
 *
 * - `BENCH_SHA=off` (or `npm run bench -- --no-sha`): every server process gets `OPENSSL_ia32cap=:~0x20000000`,
 *   which makes Node's OpenSSL run sha256 as on a CPU without SHA extensions (4-5× slower on this machine). A
 *   user's server may well run on such a CPU; the digest must not decide the results only on CPUs that have them.
 * - `BENCH_PIN=1`: server processes run on core 1 only (`taskset`), the benchmark client on core 0, so the client
 *   does not steal the server's CPU and the figures show the design rather than the contention.
 */
import { execFileSync } from 'node:child_process';

/** The OpenSSL capability mask that hides the SHA extensions (bit 29 of CPUID leaf 7 EBX). */
export const NO_SHA_OPENSSL_IA32CAP = ':~0x20000000';

/** True when this run masks the SHA extensions in every server process (`BENCH_SHA=off` or `--no-sha`). */
export const SHA_MASKED = process.env.BENCH_SHA === 'off' || process.argv.includes('--no-sha');

/** True when servers are pinned to core 1 and the client to core 0 (`BENCH_PIN=1`). */
export const PINNED = process.env.BENCH_PIN === '1';

/** The core server processes run on in pinned mode. */
export const SERVER_CORE = 1;
/** The core the benchmark client runs on in pinned mode. */
export const CLIENT_CORE = 0;

/**
 * Environment for a server process of the benchmark: `extra` plus, in no-SHA mode, the OpenSSL mask. Merge it
 * over `process.env` (or pass it to `startServer`, which does) when spawning any server the benchmark measures.
 */
export function serverEnv(extra: Record<string, string> = {}): Record<string, string> {
  return SHA_MASKED ? { ...extra, OPENSSL_ia32cap: NO_SHA_OPENSSL_IA32CAP } : { ...extra };
}

/**
 * In pinned mode, move every thread of a freshly started server process to the server core (threads it starts
 * later inherit the affinity). A no-op otherwise.
 */
export function pinServer(pid: number): void {
  if (PINNED) execFileSync('taskset', ['-a', '-cp', String(SERVER_CORE), String(pid)], { stdio: 'ignore' });
}

/** In pinned mode, move every thread of the benchmark client (this process) to the client core. */
export function pinClient(): void {
  if (PINNED) execFileSync('taskset', ['-a', '-cp', String(CLIENT_CORE), String(process.pid)], { stdio: 'ignore' });
}

/**
 * Command + arguments to spawn a server-side process with: in pinned mode wrapped in `taskset -c <server core>`
 * so it is pinned before its first instruction (for short-lived children such as the sha256-alone measurement).
 */
export function serverCommand(command: string, args: string[]): [string, string[]] {
  return PINNED ? ['taskset', ['-c', String(SERVER_CORE), command, ...args]] : [command, args];
}
