import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import { errorHeaders, errorToBody, HttpExchange } from './http-exchange';

/**
 * Last-resort filter on the library's JSON controllers: errors raised before a handler runs (e.g. the
 * platform's JSON body parser rejecting malformed input) still get the library's JSON shape with a stable
 * `code` instead of the framework default.
 */
@Catch()
export class ValiBlobExceptionFilter implements ExceptionFilter {
  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const exchange = new HttpExchange(http.getRequest(), http.getResponse());
    const status = error instanceof HttpException ? error.getStatus() : undefined;
    const mapped = errorToBody(status !== undefined ? Object.assign(new Error(error instanceof Error ? error.message : 'Error'), { status }) : error);
    exchange.closeIfBodyUnread();
    exchange.json(mapped.status, mapped.body, errorHeaders(error));
  }
}
