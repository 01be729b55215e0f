import { TusDeleteHandler } from './tus-delete.handler';
import { TusGetHandler } from './tus-get.handler';
import { TusHeadHandler } from './tus-head.handler';
import { TusOptionsHandler } from './tus-options.handler';
import { TusPatchHandler } from './tus-patch.handler';
import { TusPostHandler } from './tus-post.handler';

/** The handler of each tus method, injected into the `TusController`; the module registers them as providers. */
export const TUS_HANDLERS = [
  TusOptionsHandler,
  TusPostHandler,
  TusHeadHandler,
  TusPatchHandler,
  TusDeleteHandler,
  TusGetHandler,
];
