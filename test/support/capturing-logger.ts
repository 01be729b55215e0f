import type { LoggerService } from '@nestjs/common';

/** One captured log call. */
export interface LogEntry {
  level: string;
  /** The message and every further argument (errors with their stack), joined by spaces. */
  text: string;
}

/** A Nest logger that keeps every entry (all levels), with whatever stack or trace the caller passed. */
export class CapturingLogger implements LoggerService {
  readonly entries: LogEntry[] = [];
  private add(level: string, message: unknown, rest: unknown[]): void {
    const parts = [message, ...rest].map((p) => (p instanceof Error ? `${p.message}\n${p.stack}` : String(p)));
    this.entries.push({ level, text: parts.join(' ') });
  }
  log(message: unknown, ...rest: unknown[]): void {
    this.add('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.add('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.add('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.add('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.add('verbose', message, rest);
  }
}
