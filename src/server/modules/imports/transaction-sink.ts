// The import center's ways into the transaction and top-up ingests.
import type { Db } from '../../db/connection.js';
import { IngestService } from '../transactions/ingest.service.js';
import { TopupsService } from '../topups/topups.service.js';
import type { TransactionSink } from './transaction-rows.js';
import type { TopupSink } from './topup-rows.js';

export function transactionSinkOf(db: Db): TransactionSink {
  return new IngestService(db.kysely, db.engine);
}

export function topupSinkOf(db: Db): TopupSink {
  return new TopupsService(db.kysely, db.engine);
}
