// Users from an import: display name, username, unit code, roles and phone per row, matched by
// username. The rules of the users page hold row by row: the importer needs user.write, places people
// only in units of his subtree, touches only people of his subtree whose rights do not go beyond his
// own, gives only roles whose permissions he holds himself (rights.ts's rightsBeyond), and cannot change
// his own unit or roles. A refused row names its field; the others land.
//
// A new user gets a random initial password (the users page has the administrator set one; an import
// generates one per person). It is hashed with argon2id at a lower cost than chosen passwords: it is a
// random secret of about 80 bits, which nobody can guess however fast the hash, and the parameters
// travel in the hash itself, so sign-in verifies it as any other. The plain passwords are kept with the
// chunk that created the users until the one who ran the import downloads them, once, or until they
// expire (IMPORT_PASSWORD_TTL_HOURS; the import-passwords job deletes them then). Whoever signs in with
// one must change it first (app_user.must_change_password).
//
// The company keeps an administrator: a row that would demote or move the last one is refused on its
// own (LAST_ADMINISTRATOR on its roles or unit), the rows around it land. Rows are followed in file
// order, so a row that makes a new administrator lets a later one demote the old.
import crypto from 'node:crypto';
import { hash } from '@node-rs/argon2';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Actor, Principal } from '../../auth/principal.js';
import { pathInScope } from '../../auth/scope.js';
import { administratorIds, assertStillAdministered, countAdministrators } from '../../auth/rights.js';
import { isFullAdministrator, rightsBeyond } from '../../../domain/permissions.js';
import { checkPassword } from '../../../domain/password-policy.js';
import { normalizePhone } from '../../../domain/phone.js';
import type { FieldError } from './parse/convert.js';
import type { RowProblem } from './customer-rows.js';
import { problemsOf, recordAuditRows, slices, str, type ImportRow } from './org-rows.js';

/** What the users page accepts as a username. */
const USERNAME = /^[A-Za-z0-9_.@-]{2,64}$/;
/** Several roles in one cell: 店长、加油员 · admin,auditor · a;b. */
const ROLE_SEPARATORS = /[、,，;；]+/;
/** No look-alike characters (0/O, 1/l/I): the password is read off a sheet and typed. */
const PASSWORD_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789';
const PASSWORD_CHARS = 14;
const GENERATED_HASH = { algorithm: 2 /* Argon2id */, memoryCost: 1024, timeCost: 1, parallelism: 1 } as const;

export function generatePassword(username: string): string {
  for (;;) {
    const bytes = crypto.randomBytes(PASSWORD_CHARS * 2);
    let out = '';
    // Rejection sampling keeps every character equally likely.
    for (const b of bytes) {
      if (b >= 224) continue; // 224 = 4 × 56
      out += PASSWORD_ALPHABET[b % PASSWORD_ALPHABET.length];
      if (out.length === PASSWORD_CHARS) break;
    }
    if (out.length === PASSWORD_CHARS && checkPassword(out, username) === null) return out;
  }
}

export function hashGeneratedPassword(password: string): Promise<string> {
  return hash(password, GENERATED_HASH);
}

export interface UserChunkResult {
  created: number;
  updated: number;
  unchanged: number;
  problems: RowProblem[];
  /** Users whose name, unit or roles changed, or who were created: cached principals must go. */
  changedUsers: number[];
}

interface UserRow {
  row: number;
  username: string;
  displayName: string;
  unitCode: string;
  unitId: number;
  /** The unit is the company's top unit (administrators sit there). */
  unitAtTop: boolean;
  roleCodes: string[];
  roleIds: number[];
  phone: string | null;
}

interface UserOnFile {
  id: number;
  username: string;
  display_name: string;
  org_unit_id: number;
  path: string;
  phone: string | null;
  version: number;
  active: number;
}

export interface UserRowOptions {
  now: () => Date;
  /** How long generated passwords wait for their download (IMPORT_PASSWORD_TTL_HOURS). */
  passwordTtlHours: number;
}

export class UserRowImporter {
  /** Usernames the pass has met and the row each first stood on: a second row is refused. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly p: Principal,
    private readonly opts: UserRowOptions,
  ) {}

  /**
   * A row an earlier pass committed (a resumed import starts after its checkpoint): its username is
   * remembered as if this pass had met it, so a repeat further down is refused as in one run.
   */
  recall(row: ImportRow): void {
    const username = str(row.value.username);
    if (username !== null && USERNAME.test(username) && !this.seen.has(username))
      this.seen.set(username, row.rowNumber);
  }

  async apply(
    trx: Kysely<Database>,
    rows: ImportRow[],
    write: boolean,
    audit: { actor: Actor; importId: number },
  ): Promise<UserChunkResult> {
    const problems: RowProblem[] = [];
    const unitCodes = new Set<string>();
    for (const r of rows) {
      const c = str(r.value.userUnitCode);
      if (c !== null) unitCodes.add(c);
    }
    const units = new Map<string, { id: number; path: string; top: boolean }>();
    for (const part of slices([...unitCodes], 500))
      for (const u of await trx
        .selectFrom('org_unit')
        .select(['id', 'code', 'path', 'parent_id'])
        .where('code', 'in', part)
        .execute())
        units.set(u.code, { id: Number(u.id), path: u.path, top: u.parent_id === null });
    const roleRows = await trx
      .selectFrom('role as r')
      .leftJoin('role_permission as rp', 'rp.role_id', 'r.id')
      .select(['r.id', 'r.code', 'r.name_zh', 'r.name_en', 'rp.permission'])
      .execute();
    const roles = new Map<string, { id: number; code: string; permissions: string[] }>();
    const roleById = new Map<number, { permissions: string[] }>();
    for (const r of roleRows) {
      const role = roles.get(r.code) ?? { id: Number(r.id), code: r.code, permissions: [] };
      roleById.set(role.id, role);
      if (r.permission) role.permissions.push(r.permission);
      // A role is named by its code or by its name in either language (店长, Station manager).
      for (const key of [r.code, r.name_zh, r.name_en.toLowerCase()]) roles.set(key, role);
    }

    const parsed: UserRow[] = [];
    for (const r of rows) {
      const errors: FieldError[] = [];
      const username = str(r.value.username);
      const displayName = str(r.value.displayName);
      const unitCode = str(r.value.userUnitCode);
      const roleText = str(r.value.roles);
      const phoneText = str(r.value.mobile);
      if (username === null) errors.push({ field: 'username', code: 'REQUIRED' });
      else if (!USERNAME.test(username))
        errors.push({ field: 'username', code: 'BAD_USERNAME', params: { value: username } });
      else {
        const first = this.seen.get(username);
        if (first !== undefined) {
          const params = { value: username, firstRow: first };
          problems.push(...problemsOf(r.rowNumber, [{ field: 'username', code: 'DUPLICATE_IN_FILE', params }]));
          continue;
        }
        this.seen.set(username, r.rowNumber);
      }
      if (displayName === null) errors.push({ field: 'displayName', code: 'REQUIRED' });
      else if (displayName.length > 100)
        errors.push({ field: 'displayName', code: 'TOO_LONG', params: { value: displayName, maxChars: 100 } });
      let unitId = 0;
      let unitAtTop = false;
      if (unitCode === null) errors.push({ field: 'userUnitCode', code: 'REQUIRED' });
      else {
        const unit = units.get(unitCode);
        if (!unit) errors.push({ field: 'userUnitCode', code: 'UNIT_UNKNOWN', params: { value: unitCode } });
        else if (!pathInScope(this.p, unit.path))
          errors.push({ field: 'userUnitCode', code: 'UNIT_OUT_OF_SCOPE', params: { value: unitCode } });
        else {
          unitId = unit.id;
          unitAtTop = unit.top;
        }
      }
      const roleIds: number[] = [];
      const roleCodes: string[] = [];
      const named =
        roleText === null
          ? []
          : roleText
              .split(ROLE_SEPARATORS)
              .map((x) => x.trim())
              .filter(Boolean);
      if (named.length === 0) errors.push({ field: 'roles', code: 'REQUIRED' });
      for (const name of named) {
        const role = roles.get(name) ?? roles.get(name.toLowerCase());
        if (!role) {
          errors.push({ field: 'roles', code: 'ROLE_UNKNOWN', params: { value: name } });
          continue;
        }
        // Nobody hands out a permission he does not hold himself.
        const beyond = rightsBeyond(this.p.permissions, role.permissions);
        if (beyond.length) {
          errors.push({ field: 'roles', code: 'ROLE_EXCEEDS_RIGHTS', params: { value: name, beyond } });
          continue;
        }
        if (!roleIds.includes(role.id)) {
          roleIds.push(role.id);
          roleCodes.push(role.code);
        }
      }
      let phone: string | null = null;
      if (phoneText !== null) {
        phone = normalizePhone(phoneText);
        if (phone === null) errors.push({ field: 'mobile', code: 'BAD_PHONE', params: { value: phoneText } });
      }
      if (errors.length) {
        problems.push(...problemsOf(r.rowNumber, errors));
        continue;
      }
      const row = { row: r.rowNumber, username: username!, displayName: displayName!, unitCode: unitCode! };
      parsed.push({ ...row, unitId, unitAtTop, roleCodes, roleIds: roleIds.sort((a, b) => a - b), phone });
    }

    // People on file with these usernames, their units and their roles' permissions.
    const onFile = new Map<string, UserOnFile>();
    for (const part of slices(
      parsed.map((x) => x.username),
      500,
    ))
      for (const u of await trx
        .selectFrom('app_user as u')
        .innerJoin('org_unit as o', 'o.id', 'u.org_unit_id')
        .select(['u.id', 'u.username', 'u.display_name', 'u.org_unit_id', 'o.path', 'u.phone', 'u.version', 'u.active'])
        .where('u.username', 'in', part)
        .execute())
        onFile.set(u.username, {
          ...u,
          id: Number(u.id),
          org_unit_id: Number(u.org_unit_id),
          phone: u.phone ?? null,
          active: Number(u.active),
        });
    const heldRoles = new Map<number, number[]>();
    const heldPermissions = new Map<number, string[]>();
    const ids = [...onFile.values()].map((u) => u.id);
    for (const part of slices(ids, 500)) {
      const held = await trx
        .selectFrom('user_role as ur')
        .leftJoin('role_permission as rp', 'rp.role_id', 'ur.role_id')
        .select(['ur.user_id', 'ur.role_id', 'rp.permission'])
        .where('ur.user_id', 'in', part)
        .execute();
      for (const h of held) {
        const uid = Number(h.user_id);
        const list = heldRoles.get(uid) ?? heldRoles.set(uid, []).get(uid)!;
        if (!list.includes(Number(h.role_id))) list.push(Number(h.role_id));
        if (h.permission) (heldPermissions.get(uid) ?? heldPermissions.set(uid, []).get(uid)!).push(h.permission);
      }
    }

    const created: UserRow[] = [];
    const updates: { row: UserRow; before: UserOnFile; beforeRoles: number[]; rolesChanged: boolean }[] = [];
    let unchanged = 0;
    const refuse = (row: number, e: FieldError) => problems.push(...problemsOf(row, [e]));
    // The administrators as the rows leave them; a company that has none (before its setup) is not guarded.
    const admins = onFile.size ? await administratorIds(trx) : new Set<number>();
    const guarded = admins.size > 0;
    const fullRights = (x: UserRow) =>
      isFullAdministrator(x.roleIds.flatMap((id) => roleById.get(id)?.permissions ?? []));
    for (const x of parsed) {
      const before = onFile.get(x.username);
      if (!before) {
        created.push(x);
        // A new person is active; negative keys keep new people apart from ids on file.
        if (guarded && x.unitAtTop && fullRights(x)) admins.add(-x.row);
        continue;
      }
      // Someone outside the importer's subtree: the username is taken, and that is all the row says.
      if (!pathInScope(this.p, before.path)) {
        refuse(x.row, { field: 'username', code: 'USERNAME_TAKEN', params: { value: x.username } });
        continue;
      }
      const beforeRoles = (heldRoles.get(before.id) ?? []).sort((a, b) => a - b);
      const rolesChanged = beforeRoles.join(',') !== x.roleIds.join(',');
      const unitChanged = before.org_unit_id !== x.unitId;
      const changed =
        rolesChanged ||
        unitChanged ||
        before.display_name !== x.displayName ||
        (x.phone !== null && x.phone !== before.phone);
      if (!changed) {
        unchanged++;
        continue;
      }
      if (before.id === this.p.userId) {
        if (rolesChanged || unitChanged) {
          refuse(x.row, { field: 'username', code: 'SELF_CHANGE', params: { value: x.username } });
          continue;
        }
      } else {
        const beyond = rightsBeyond(this.p.permissions, heldPermissions.get(before.id) ?? []);
        if (beyond.length) {
          refuse(x.row, { field: 'username', code: 'USER_EXCEEDS_RIGHTS', params: { value: x.username, beyond } });
          continue;
        }
      }
      if (guarded && (rolesChanged || unitChanged)) {
        const keepsRights = fullRights(x);
        const staysAdministrator = before.active === 1 && x.unitAtTop && keepsRights;
        if (!staysAdministrator && admins.has(before.id)) {
          if (admins.size === 1) {
            // Named on what takes his rights away: the roles, or else the move out of the top unit.
            const field = keepsRights ? 'userUnitCode' : 'roles';
            refuse(x.row, { field, code: 'LAST_ADMINISTRATOR', params: { value: x.username } });
            continue;
          }
          admins.delete(before.id);
        } else if (staysAdministrator) admins.add(before.id);
      }
      updates.push({ row: x, before, beforeRoles, rolesChanged });
    }

    const result = {
      created: created.length,
      updated: updates.length,
      unchanged,
      problems,
      changedUsers: [] as number[],
    };
    if (!write) return result;

    const at = this.opts.now();
    const now = at.toISOString();
    const expiresAt = new Date(at.getTime() + this.opts.passwordTtlHours * 3_600_000).toISOString();
    const entries: Parameters<typeof recordAuditRows>[2] = [];
    const administrators = updates.some((u) => u.rolesChanged || u.before.org_unit_id !== u.row.unitId)
      ? await countAdministrators(trx)
      : 0;
    for (const u of updates) {
      const x = u.row;
      await trx
        .updateTable('app_user')
        .set({
          display_name: x.displayName,
          org_unit_id: x.unitId,
          ...(x.phone !== null && { phone: x.phone }),
          version: u.before.version + 1,
          updated_at: now,
        })
        .where('id', '=', u.before.id)
        .execute();
      if (u.rolesChanged) {
        await trx.deleteFrom('user_role').where('user_id', '=', u.before.id).execute();
        await trx
          .insertInto('user_role')
          .values(x.roleIds.map((role_id) => ({ user_id: u.before.id, role_id })))
          .execute();
      }
      // As on the users page: someone moved or re-roled keeps no session with the old rights.
      if (u.rolesChanged || u.before.org_unit_id !== x.unitId)
        await trx.deleteFrom('session').where('user_id', '=', u.before.id).execute();
      entries.push({
        action: 'update',
        entity: 'user',
        entityId: u.before.id,
        orgUnitId: x.unitId,
        before: {
          displayName: u.before.display_name,
          orgUnitId: u.before.org_unit_id,
          roleIds: u.beforeRoles,
          phone: u.before.phone,
        },
        after: {
          displayName: x.displayName,
          orgUnitId: x.unitId,
          roleIds: x.roleIds,
          roles: x.roleCodes,
          ...(x.phone !== null && { phone: x.phone }),
          importId: audit.importId,
          row: x.row,
        },
      });
      result.changedUsers.push(u.before.id);
    }
    // The rows were refused one by one above; this stays as the rule every change to people obeys.
    if (administrators > 0) await assertStillAdministered(trx, administrators);

    if (created.length) {
      const passwords = created.map((x) => generatePassword(x.username));
      const hashes = await Promise.all(passwords.map(hashGeneratedPassword));
      const idOf = new Map<string, number>();
      for (const part of slices(
        created.map((x, i) => ({ x, hash: hashes[i]! })),
        200,
      )) {
        const inserted = await trx
          .insertInto('app_user')
          .values(
            part.map(({ x, hash }) => ({
              username: x.username,
              display_name: x.displayName,
              org_unit_id: x.unitId,
              password_hash: hash,
              locale: 'zh-CN',
              active: 1,
              phone: x.phone,
              must_change_password: 1,
              password_changed_at: now,
              created_at: now,
              updated_at: now,
            })),
          )
          .returning(['id', 'username'])
          .execute();
        for (const r of inserted) idOf.set(r.username, Number(r.id));
      }
      const links = created.flatMap((x) => x.roleIds.map((role_id) => ({ user_id: idOf.get(x.username)!, role_id })));
      for (const part of slices(links, 500)) await trx.insertInto('user_role').values(part).execute();
      const credentials = created.map((x, i) => ({
        job_id: audit.importId,
        row_number: x.row,
        username: x.username,
        display_name: x.displayName,
        unit_code: x.unitCode,
        password: passwords[i]!,
        created_at: now,
        expires_at: expiresAt,
      }));
      for (const part of slices(credentials, 500)) await trx.insertInto('import_credential').values(part).execute();
      for (const x of created) {
        const id = idOf.get(x.username)!;
        entries.push({
          action: 'create',
          entity: 'user',
          entityId: id,
          orgUnitId: x.unitId,
          after: {
            username: x.username,
            displayName: x.displayName,
            orgUnitId: x.unitId,
            roleIds: x.roleIds,
            roles: x.roleCodes,
            ...(x.phone !== null && { phone: x.phone }),
            importId: audit.importId,
            row: x.row,
          },
        });
        result.changedUsers.push(id);
      }
    }
    await recordAuditRows(trx, audit.actor, entries);
    return result;
  }
}
