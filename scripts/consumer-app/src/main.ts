// Bootstrap as docs/getting-started.md §3 shows it (no requestTimeout of its own: the library turns Node's 300 s
// default off), plus one log line with the port (PORT=0 picks a free one) and the timeout the server ended up with.
import { NestFactory } from '@nestjs/core';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
  const server = app.getHttpServer() as Server;
  const { port } = server.address() as AddressInfo;
  console.log(`consumer app listening on port ${port} (requestTimeout ${server.requestTimeout})`);
}
void bootstrap();
