// Snapshots of dashboard figures, one per (kind, unit, month). Over a large subtree the figures take
// seconds to compute from the rollups (HQ of a 1,000,000-customer network: up to 17 s on SQLite), so a
// computed answer is kept with the time it was computed and the policy version it used:
//   - younger than the configured age: served as it is;
//   - older, but computed within the last day: served as it is while a new one is computed in the
//     background (the reply's asOf says how old the figures are);
//   - older than a day, made under another policy version, missing, or a refresh asked for:
//     computed now.
// One computation per key runs at a time; callers arriving meanwhile wait for it.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';

export type SnapshotKind = 'overview' | 'key_customers' | 'card_suggestions' | 'loss_rate';

/** Past this age a snapshot is never served, not even while a new one is computed. */
export const STALE_LIMIT_MS = 24 * 3_600_000;

export interface Snapshot<T> {
  body: T;
  /** When the figures were computed (ISO-8601 UTC). */
  asOf: string;
}

export class SnapshotStore {
  private readonly pending = new Map<string, Promise<Snapshot<unknown>>>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => Date,
    /** 0: no snapshots, every read computes. */
    private readonly maxAgeMinutes: number,
    private readonly onBackgroundError: (err: unknown) => void = () => undefined,
  ) {}

  get enabled(): boolean {
    return this.maxAgeMinutes > 0;
  }

  async read<T>(
    kind: SnapshotKind,
    orgUnitId: number,
    month: string,
    policyKey: string,
    compute: () => Promise<T>,
    opts: { refresh?: boolean } = {},
  ): Promise<Snapshot<T>> {
    if (!this.enabled) return { body: await compute(), asOf: this.now().toISOString() };
    const key = `${kind}:${orgUnitId}:${month}`;
    const running = this.pending.get(key) as Promise<Snapshot<T>> | undefined;
    if (!opts.refresh) {
      const row = await this.db
        .selectFrom('dashboard_snapshot')
        .select(['policy_key', 'computed_at', 'body'])
        .where('kind', '=', kind)
        .where('org_unit_id', '=', orgUnitId)
        .where('month', '=', month)
        .executeTakeFirst();
      if (row && row.policy_key === policyKey) {
        const age = this.now().getTime() - Date.parse(row.computed_at);
        const stored: Snapshot<T> = { body: JSON.parse(row.body) as T, asOf: row.computed_at };
        if (age <= this.maxAgeMinutes * 60_000) return stored;
        if (age <= STALE_LIMIT_MS) {
          if (!running) this.start(key, kind, orgUnitId, month, policyKey, compute).catch(this.onBackgroundError);
          return stored;
        }
      }
      if (running) return running;
    }
    return this.start(key, kind, orgUnitId, month, policyKey, compute);
  }

  /** Resolves when every computation started so far has ended (failed ones included). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending.values()]);
  }

  private start<T>(
    key: string,
    kind: SnapshotKind,
    orgUnitId: number,
    month: string,
    policyKey: string,
    compute: () => Promise<T>,
  ): Promise<Snapshot<T>> {
    const work = (async () => {
      const asOf = this.now().toISOString();
      const body = await compute();
      await this.write(kind, orgUnitId, month, policyKey, asOf, body);
      return { body, asOf };
    })();
    this.pending.set(key, work);
    const clear = () => {
      if (this.pending.get(key) === work) this.pending.delete(key);
    };
    work.then(clear, clear);
    return work;
  }

  private async write(
    kind: SnapshotKind,
    orgUnitId: number,
    month: string,
    policyKey: string,
    asOf: string,
    body: unknown,
  ): Promise<void> {
    const text = JSON.stringify(body);
    await this.db
      .insertInto('dashboard_snapshot')
      .values({ kind, org_unit_id: orgUnitId, month, policy_key: policyKey, computed_at: asOf, body: text })
      .onConflict((oc) =>
        oc
          .columns(['kind', 'org_unit_id', 'month'])
          .doUpdateSet({ policy_key: policyKey, computed_at: asOf, body: text })
          // Another process may have stored newer figures meanwhile.
          .where('dashboard_snapshot.computed_at', '<=', asOf),
      )
      .execute();
  }
}
