import { DynamicModule, INestApplication, Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { Logger as PinoNestLogger, LoggerModule } from 'nestjs-pino';

/** `LOG_FORMAT`: Nest's readable console lines (`text`, the default) or one JSON object per line (`json`). */
export type LogFormat = 'text' | 'json';

/** Parse `LOG_FORMAT` (unset = `text`); a problem is pushed like the other settings'. */
export function parseLogFormat(env: NodeJS.ProcessEnv, problems: string[]): LogFormat {
  const value = (env.LOG_FORMAT || 'text').toLowerCase();
  if (value === 'text' || value === 'json') return value;
  problems.push(`LOG_FORMAT must be text or json (got ${env.LOG_FORMAT})`);
  return 'text';
}

/**
 * Headers never written to the log: credentials (AUTH_TOKEN / AUTH_TOKENS bearer tokens, cookies). Bodies are not
 * logged at all (pino-http's serializers have none).
 */
const REDACTED = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
];

/** Only the upload and blob routes get a line per request (not health probes, not the demo page's assets). */
function notAnUploadRoute(req: IncomingMessage): boolean {
  return !/^\/(files|uploads|blobs)(\/|\?|$)/.test(req.url ?? '');
}

/**
 * `LOG_FORMAT=json`: nestjs-pino writes every Nest and ValiBlob line as JSON on stdout (library lines about an
 * upload get `uploadId`/`ownerId` fields), plus one line per finished request on the upload routes.
 */
export function loggingImports(format: LogFormat): DynamicModule[] {
  if (format !== 'json') return [];
  return [
    LoggerModule.forRoot({
      pinoHttp: {
        // Nest's default console logger shows debug lines (client mistakes) too: keep them.
        level: 'debug',
        autoLogging: { ignore: notAnUploadRoute },
        // Lines logged during a request carry its id, not the whole request (headers included) each time.
        quietReqLogger: true,
        redact: { paths: REDACTED, censor: '[redacted]' },
      },
    }),
  ];
}

/**
 * Call before the app module is built; returns the `NestFactory.create` logging options. For `json` every line
 * logged from now on (the module's wiring lines, Nest's boot) waits in Nest's buffer until `useConfiguredLogger`
 * installs pino, so no text line reaches stdout first.
 */
export function bootLogOptions(format: LogFormat): { bufferLogs: boolean } {
  if (format === 'json') Logger.attachBuffer();
  return { bufferLogs: format === 'json' };
}

/** Install nestjs-pino's logger as the app's logger for `json` (flushing what was buffered); `text` keeps Nest's. */
export function useConfiguredLogger(app: INestApplication, format: LogFormat): void {
  if (format === 'json') app.useLogger(app.get(PinoNestLogger));
}
