// The import center's way into the transaction ingest.
import type { Db } from '../../db/connection.js';
import { IngestService } from '../transactions/ingest.service.js';
import type { TransactionSink } from './transaction-rows.js';

export function transactionSinkOf(db: Db): TransactionSink {
  return new IngestService(db.kysely, db.engine);
}
