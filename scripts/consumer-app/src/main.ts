// Bootstrap as docs/getting-started.md §3 shows it, plus a log line with the port (PORT=0 picks a free one).
import { NestFactory } from '@nestjs/core';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  (app.getHttpServer() as Server).requestTimeout = 0;
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
  console.log(`consumer app listening on port ${port}`);
}
void bootstrap();
