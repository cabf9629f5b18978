// Initial passwords an import of users generated wait in import_credential for the one who ran the
// import, until their deadline (IMPORT_PASSWORD_TTL_HOURS after they were made, written on each row).
// Past it they are deleted whole per import, the import remembers when, and the purge is audited; the
// download then answers IMPORT_PASSWORDS_EXPIRED, and the people's passwords are reset on the users page.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../auth/principal.js';
import { recordAudit } from '../audit/audit.service.js';

export const PASSWORDS_EXPIRY_ACTOR: Actor = { userId: null, name: 'job:import-passwords-expiry', ip: null };

/** Delete the passwords of every import one of whose passwords is past its deadline at `now`. */
export async function purgeExpiredPasswords(
  db: Kysely<Database>,
  now: Date,
): Promise<{ imports: number; passwords: number }> {
  const at = now.toISOString();
  const due = await db
    .selectFrom('import_credential')
    .select('job_id')
    .distinct()
    .where('expires_at', '<=', at)
    .execute();
  let imports = 0;
  let passwords = 0;
  for (const { job_id: jobId } of due) {
    await db.transaction().execute(async (trx) => {
      const deleted = await trx.deleteFrom('import_credential').where('job_id', '=', jobId).executeTakeFirst();
      const n = Number(deleted.numDeletedRows);
      // Taken (or purged by another instance) meanwhile.
      if (n === 0) return;
      const job = await trx
        .updateTable('import_job')
        .set({ passwords_expired_at: at })
        .where('id', '=', jobId)
        .returning('org_unit_id')
        .executeTakeFirst();
      await recordAudit(trx, PASSWORDS_EXPIRY_ACTOR, {
        action: 'import_passwords_expired',
        entity: 'import',
        entityId: jobId,
        orgUnitId: job?.org_unit_id ?? null,
        after: { users: n },
      });
      imports++;
      passwords += n;
    });
  }
  return { imports, passwords };
}
