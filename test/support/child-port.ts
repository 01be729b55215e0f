import { ChildProcess } from 'node:child_process';

/** A started child's port and everything it printed so far (collection goes on after start). */
export interface ChildListening {
  port: number;
  output(): string;
}

/**
 * Wait until a child process prints the line `pattern` matches (its first group is the port), collecting stdout
 * and stderr for failure messages. A child that exits first or misses `timeoutMs` is killed and the wait fails
 * with what it printed.
 */
export function waitForListeningPort(
  child: ChildProcess,
  pattern: RegExp,
  what: string,
  timeoutMs: number,
): Promise<ChildListening> {
  let output = '';
  return new Promise<ChildListening>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not start in ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (data: Buffer) => {
      output += data.toString();
      const match = pattern.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ port: Number(match[1]), output: () => output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code} before listening:\n${output}`));
    });
  });
}
