import { OwnerSpace } from '../uploads/owner-scope';
import type { ResolvedValiBlobOptions, UploadAction } from '../vali-blob.options';
import { authorizeRequest, AuthorizeExtra, HttpExchange } from './http-exchange';

/**
 * Who one HTTP request acts for, once the authorize hook answered: the owner id bound to uploads and the owner
 * space that maps the paths the client sends and sees (identity without owner scope). Until `authorize` ran it
 * is the unscoped, anonymous state, so an early error answer can still be rendered.
 */
export class RequestOwner {
  /** Owner id from the hook (`null` = anonymous). */
  owner: string | null = null;
  /** Path space of the owner. */
  space: OwnerSpace = OwnerSpace.unscoped;

  constructor(
    private readonly options: ResolvedValiBlobOptions,
    private readonly exchange: HttpExchange,
  ) {}

  /** Run the authorize hook (401/403 on refusal) and remember the owner and its space. */
  async authorize(action: UploadAction, extra: AuthorizeExtra = {}): Promise<string | null> {
    this.owner = await authorizeRequest(this.options, this.exchange, action, extra);
    this.space = OwnerSpace.of(this.options, this.owner);
    return this.owner;
  }
}
