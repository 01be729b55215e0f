import { RufhAppendHandler } from '../rufh/rufh-append.handler';
import { RufhContentWriter } from '../rufh/rufh-content.writer';
import { RufhCreateHandler } from '../rufh/rufh-create.handler';
import { RufhOffsetHandler } from '../rufh/rufh-offset.handler';
import { RufhDispatcher } from '../rufh/rufh.dispatcher';
import { TusDeleteHandler } from './tus-delete.handler';
import { TusGetHandler } from './tus-get.handler';
import { TusHeadHandler } from './tus-head.handler';
import { TusOptionsHandler } from './tus-options.handler';
import { TusPatchHandler } from './tus-patch.handler';
import { TusPostHandler } from './tus-post.handler';

/**
 * The handler of each method on the tus endpoint, for tus and for the IETF draft it also speaks (the draft's
 * dispatcher and handlers, and the content writer they share), injected into the `TusController`; the module
 * registers them as providers.
 */
export const TUS_HANDLERS = [
  TusOptionsHandler,
  TusPostHandler,
  TusHeadHandler,
  TusPatchHandler,
  TusDeleteHandler,
  TusGetHandler,
  RufhContentWriter,
  RufhCreateHandler,
  RufhAppendHandler,
  RufhOffsetHandler,
  RufhDispatcher,
];
