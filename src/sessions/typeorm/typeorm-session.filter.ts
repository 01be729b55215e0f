import type { WhereExpressionBuilder } from 'typeorm';
import type { SessionFilter } from '../upload-session.model';

/**
 * `partition` is a keyword in both dialects' grammars (window functions); quoted, it is a plain column name on
 * SQLite and PostgreSQL alike.
 */
export const PARTITION_COLUMN = '"partition"';

/**
 * WHERE clauses (AND) of one partition and a `SessionFilter`. Column names are unqualified so SELECT, UPDATE and
 * DELETE share it. The partition comes first: every statement of the store is scoped to it.
 */
export function applySessionFilter(
  query: WhereExpressionBuilder,
  partition: string,
  filter: Omit<SessionFilter, 'limit' | 'cursor'>,
): void {
  query.where(`${PARTITION_COLUMN} = :partition`, { partition });
  if (filter.pathPrefix !== undefined && filter.pathPrefix !== '') {
    const prefix = filter.pathPrefix;
    const pathPattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query
      .andWhere("path LIKE :pathPattern ESCAPE '\\'", { pathPattern })
      // SQL counts characters (code points), not UTF-16 units.
      .andWhere('substr(path, 1, :prefixLength) = :pathPrefix', {
        prefixLength: [...prefix].length,
        pathPrefix: prefix,
      });
  }
  if (filter.status !== undefined) {
    const statuses = Array.isArray(filter.status) ? filter.status : [filter.status];
    if (statuses.length === 0) query.andWhere('1 = 0');
    else query.andWhere('status IN (:...statuses)', { statuses });
  }
  if (filter.ownerId !== undefined) query.andWhere('owner_id = :ownerId', { ownerId: filter.ownerId });
  if (filter.expiresBefore !== undefined) {
    query.andWhere('expires_at <= :expiresBefore', { expiresBefore: filter.expiresBefore });
  }
  if (filter.createdBefore !== undefined) {
    query.andWhere('created_at <= :createdBefore', { createdBefore: filter.createdBefore });
  }
}
