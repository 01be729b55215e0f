/**
 * Child processes of the cloud benchmark: each server (and Azurite) in a process of its own, with an IPC channel
 * so the benchmark can ask a server for the storage requests it counted. Every child started here is killed when
 * the benchmark process exits, however it exits, so a failed run leaves nothing behind.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { pinServer, serverEnv } from './server-env';

const ROOT = join(__dirname, '..', '..');

const live = new Set<ChildProcess>();
const killAll = () => {
  for (const child of live) child.kill('SIGKILL');
};
process.once('exit', killAll);
// A signal ends the process without 'exit': kill the children first, then die as the signal asks.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll();
    process.kill(process.pid, signal);
  });
}

/** Kill `child` when this process exits, if it is still running then. */
export function killOnExit(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/** A bench/support server in its own process, with an IPC channel for questions (e.g. request counts). */
export interface CloudServer {
  url: string;
  pid: number;
  output(): string;
  /** Ask the server something over IPC (`{ type }`); resolves with its answer. */
  ask<T>(type: string): Promise<T>;
  /** SIGTERM, then SIGKILL after 5 s; resolves once it exited. */
  stop(): Promise<void>;
}

let nextQuestion = 0;

/** Start `bench/support/<script>` with `serverEnv()` and `env`; resolves when it prints its listening line. */
export async function startCloudScript(script: string, env: Record<string, string>): Promise<CloudServer> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', join(ROOT, 'bench', 'support', script)], {
    cwd: ROOT,
    env: { ...process.env, ...serverEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  killOnExit(child);
  pinServer(child.pid!);
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not start in 60 s:\n${output}`));
    }, 60_000);
    const onData = (data: Buffer) => {
      output += data.toString();
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}:\n${output}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    output: () => output,
    ask: <T>(type: string) =>
      new Promise<T>((resolve, reject) => {
        const id = ++nextQuestion;
        const onMessage = (message: { id?: number; answer?: T }) => {
          if (message?.id !== id) return;
          child.off('message', onMessage);
          resolve(message.answer as T);
        };
        child.on('message', onMessage);
        child.send({ id, type }, (error) => error && reject(error));
      }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }
      await exited;
    },
  };
}

/** Answer the benchmark's IPC questions in a server process: `answers[type]()` is sent back. */
export function answerQuestions(answers: Record<string, () => unknown>): void {
  process.on('message', (message: { id: number; type: string }) => {
    const answer = answers[message.type]?.();
    process.send?.({ id: message.id, answer: answer ?? null });
  });
}
