import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import { errorHeaders, errorToBody, HttpExchange } from './http-exchange';

/**
 * Last-resort filter on the REST controller. Its handlers answer their own errors; this catches what Nest raises
 * around them for the route (an application's global guard, pipe or interceptor throwing an `HttpException`, or
 * anything a handler lets escape), so those answers still get the library's JSON shape with a stable `code`
 * instead of Nest's default. A body the platform's parser refuses (malformed JSON, a body over the limit) never
 * reaches a filter: the parser fails before routing, and `PlatformErrorBridge` answers it.
 */
@Catch()
export class ValiBlobExceptionFilter implements ExceptionFilter {
  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const exchange = new HttpExchange(http.getRequest(), http.getResponse());
    const status = error instanceof HttpException ? error.getStatus() : undefined;
    const message = error instanceof Error ? error.message : 'Error';
    const mapped = errorToBody(status !== undefined ? Object.assign(new Error(message), { status }) : error);
    exchange.closeIfBodyUnread();
    exchange.json(mapped.status, mapped.body, errorHeaders(error));
  }
}
