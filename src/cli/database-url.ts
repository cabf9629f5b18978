import { isPostgresUrl } from '../server/db/connection.js';

/** The database named for a person: a PostgreSQL URL without its password, or the SQLite file path. */
export function describeDatabase(url: string): string {
  if (!isPostgresUrl(url)) return `SQLite ${url}`;
  const u = new URL(url);
  if (u.password) u.password = '***';
  return `PostgreSQL ${u.toString()}`;
}
