import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Server } from 'node:http';
import { AppModule } from './app.module';
import { bootLogOptions, useConfiguredLogger } from './logging.wiring';
import { loadServerConfig } from './server.config';

/** Start the runnable ValiBlob server (`npm start`). */
async function bootstrap(): Promise<void> {
  const config = loadServerConfig();
  const logOptions = bootLogOptions(config.logFormat);
  const app = await NestFactory.create(AppModule.forRoot(config), logOptions);
  useConfiguredLogger(app, config.logFormat);
  app.enableShutdownHooks();
  const server = app.getHttpServer() as Server;
  // Node's default 300 s requestTimeout would cut a long PATCH mid-body; the engine has its own per-read
  // idle timeout instead (tusd's model).
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 65_000;
  await app.listen(config.port, config.host);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  new Logger('ValiBlob').log(`ValiBlob server listening on http://127.0.0.1:${port} (storage ${config.storageDir})`);
}

bootstrap().catch((error) => {
  // eslint-disable-next-line no-console -- fatal bootstrap error: print it to stderr, then exit(1)
  console.error(error);
  process.exit(1);
});
