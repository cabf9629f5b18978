// Reference data several pages share, one query key each.
import { useQuery } from '@tanstack/react-query';
import { client, unwrap, type ApiData } from '../api/client.js';

export type OrgUnit = ApiData<'/api/org/units'>[number];
export type LevelKind = ApiData<'/api/org/level-kinds'>[number];
export type Role = ApiData<'/api/roles'>[number];

export const ORG_UNITS_KEY = ['org-units'] as const;
export const ROLES_KEY = ['roles'] as const;

export function useOrgUnits(enabled = true) {
  return useQuery({ queryKey: ORG_UNITS_KEY, queryFn: () => unwrap(client.GET('/api/org/units')), enabled });
}

export function useLevelKinds(enabled = true) {
  return useQuery({
    queryKey: ['level-kinds'],
    queryFn: () => unwrap(client.GET('/api/org/level-kinds')),
    enabled,
    staleTime: Infinity,
  });
}

export function useRoles() {
  return useQuery({ queryKey: ROLES_KEY, queryFn: () => unwrap(client.GET('/api/roles')) });
}

export function usePermissionCatalog() {
  return useQuery({
    queryKey: ['permissions'],
    queryFn: () => unwrap(client.GET('/api/permissions')),
    staleTime: Infinity,
  });
}
