// Policies with history: every save is a new version; the newest version of a kind is in force.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { actorOf, type Principal } from '../../auth/principal.js';
import { AppError } from '../../errors.js';
import {
  DEFAULT_POLICIES,
  POLICY_KINDS,
  policyChanges,
  policyProblem,
  storedPolicy,
  type PolicyBodies,
  type PolicyChange,
  type PolicyKind,
} from '../../../domain/policies.js';
import { recordAudit } from '../audit/audit.service.js';

export interface PolicyVersion<K extends PolicyKind = PolicyKind> {
  kind: K;
  versionId: number | null;
  body: PolicyBodies[K];
  note: string | null;
  createdAt: string | null;
  /** The display name of the person who saved it (not the username). */
  createdByName: string | null;
}

export interface PolicyHistoryEntry extends PolicyVersion {
  /** What this version changed from the one before it; the first, from the default. */
  changes: PolicyChange[];
}

/** How many versions the history lists. */
export const HISTORY_LIMIT = 100;

type Reader = Pick<Kysely<Database>, 'selectFrom'>;

/** The policy of a kind in force now (the default when HQ has never saved one). */
export async function currentPolicy<K extends PolicyKind>(db: Reader, kind: K): Promise<PolicyVersion<K>> {
  const row = await db
    .selectFrom('policy_version as p')
    .leftJoin('app_user as u', 'u.id', 'p.created_by')
    .select(['p.id', 'p.body', 'p.note', 'p.created_at', 'u.display_name'])
    .where('p.kind', '=', kind)
    .orderBy('p.id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row)
    return { kind, versionId: null, body: DEFAULT_POLICIES[kind], note: null, createdAt: null, createdByName: null };
  return {
    kind,
    versionId: row.id,
    body: storedPolicy(kind, JSON.parse(row.body)),
    note: row.note,
    createdAt: row.created_at,
    createdByName: row.display_name,
  };
}

export class PoliciesService {
  constructor(private readonly db: Kysely<Database>) {}

  async all(): Promise<PolicyVersion[]> {
    return Promise.all(POLICY_KINDS.map((k) => currentPolicy(this.db, k)));
  }

  async history(kind: PolicyKind): Promise<PolicyHistoryEntry[]> {
    // One more than is listed: the last listed version's changes are worked out against it.
    const rows = await this.db
      .selectFrom('policy_version as p')
      .leftJoin('app_user as u', 'u.id', 'p.created_by')
      .select(['p.id', 'p.body', 'p.note', 'p.created_at', 'u.display_name'])
      .where('p.kind', '=', kind)
      .orderBy('p.id', 'desc')
      .limit(HISTORY_LIMIT + 1)
      .execute();
    const bodies = rows.map((r) => storedPolicy(kind, JSON.parse(r.body)));
    return rows.slice(0, HISTORY_LIMIT).map((r, i) => ({
      kind,
      versionId: r.id,
      body: bodies[i]!,
      note: r.note,
      createdAt: r.created_at,
      createdByName: r.display_name,
      changes: policyChanges(bodies[i + 1] ?? DEFAULT_POLICIES[kind], bodies[i]),
    }));
  }

  async save<K extends PolicyKind>(
    p: Principal,
    ip: string | null,
    kind: K,
    body: PolicyBodies[K],
    note: string | null,
  ): Promise<PolicyVersion<K>> {
    const problem = policyProblem(kind, body);
    if (problem) {
      throw new AppError('VALIDATION_FAILED', problem.message, `body.body.${problem.field}`, { rule: problem.rule });
    }
    await this.db.transaction().execute(async (trx) => {
      const before = await currentPolicy(trx, kind);
      const { id } = await trx
        .insertInto('policy_version')
        .values({ kind, body: JSON.stringify(body), note, created_by: p.userId, created_at: new Date().toISOString() })
        .returning('id')
        .executeTakeFirstOrThrow();
      const entry = {
        action: 'update',
        entity: 'policy',
        entityId: `${kind}#${id}`,
        before: before.body,
        after: body,
      } as const;
      await recordAudit(trx, actorOf(p, ip), entry);
    });
    return currentPolicy(this.db, kind);
  }
}
