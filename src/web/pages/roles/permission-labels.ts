import { i18n } from '../../i18n/index.js';

// Permission codes look like `customer.phone`; the catalogs hold them nested under `perm`.
// An unknown code (added on the server before the catalogs) shows as itself.
export function permissionLabel(code: string): string {
  const key = `perm.${code}`;
  return i18n.exists(key) ? i18n.t(key as 'perm.org.read') : code;
}

export function permissionGroupLabel(group: string): string {
  const key = `permGroup.${group}`;
  return i18n.exists(key) ? i18n.t(key as 'permGroup.org') : group;
}

/** [group, codes] in the catalogue's order. */
export function groupPermissions(codes: readonly string[]): [string, string[]][] {
  const groups = new Map<string, string[]>();
  for (const code of codes) {
    const group = code.split('.')[0] ?? code;
    groups.set(group, [...(groups.get(group) ?? []), code]);
  }
  return [...groups];
}
