// Policies with history: every save is a new version; the newest version of a kind is in force.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { actorOf, type Principal } from '../../auth/principal.js';
import { AppError } from '../../errors.js';
import { DEFAULT_POLICIES, POLICY_KINDS, policyProblem, type PolicyBodies, type PolicyKind } from '../../../domain/policies.js';
import { recordAudit } from '../audit/audit.service.js';

export interface PolicyVersion<K extends PolicyKind = PolicyKind> {
  kind: K;
  versionId: number | null;
  body: PolicyBodies[K];
  note: string | null;
  createdAt: string | null;
  createdByName: string | null;
}

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
  if (!row) return { kind, versionId: null, body: DEFAULT_POLICIES[kind], note: null, createdAt: null, createdByName: null };
  return { kind, versionId: row.id, body: JSON.parse(row.body) as PolicyBodies[K], note: row.note, createdAt: row.created_at, createdByName: row.display_name };
}

export class PoliciesService {
  constructor(private readonly db: Kysely<Database>) {}

  async all(): Promise<PolicyVersion[]> {
    return Promise.all(POLICY_KINDS.map((k) => currentPolicy(this.db, k)));
  }

  async history(kind: PolicyKind): Promise<PolicyVersion[]> {
    const rows = await this.db
      .selectFrom('policy_version as p')
      .leftJoin('app_user as u', 'u.id', 'p.created_by')
      .select(['p.id', 'p.body', 'p.note', 'p.created_at', 'u.display_name'])
      .where('p.kind', '=', kind)
      .orderBy('p.id', 'desc')
      .limit(100)
      .execute();
    return rows.map((r) => ({ kind, versionId: r.id, body: JSON.parse(r.body) as PolicyBodies[PolicyKind], note: r.note, createdAt: r.created_at, createdByName: r.display_name }));
  }

  async save<K extends PolicyKind>(p: Principal, ip: string | null, kind: K, body: PolicyBodies[K], note: string | null): Promise<PolicyVersion<K>> {
    const problem = policyProblem(kind, body);
    if (problem) throw new AppError('VALIDATION_FAILED', problem, `body.body.${problem.split(' ')[0]}`);
    await this.db.transaction().execute(async (trx) => {
      const before = await currentPolicy(trx, kind);
      const { id } = await trx.insertInto('policy_version').values({ kind, body: JSON.stringify(body), note, created_by: p.userId, created_at: new Date().toISOString() }).returning('id').executeTakeFirstOrThrow();
      await recordAudit(trx, actorOf(p, ip), { action: 'update', entity: 'policy', entityId: `${kind}#${id}`, before: before.body, after: body });
    });
    return currentPolicy(this.db, kind);
  }
}
