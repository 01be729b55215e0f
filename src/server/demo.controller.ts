import { Controller, Get, Header } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Serves the demo page at `/`. */
@Controller()
export class DemoController {
  private readonly page = readFileSync(join(__dirname, 'public', 'index.html'), 'utf8');

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  index(): string {
    return this.page;
  }
}
