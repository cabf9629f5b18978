// The ownership API as the pages use it: coverage, the pool, a customer's owner block.
import { client, unwrap } from '../../api/client.js';

export const fetchCoverage = (orgUnitId?: number) =>
  unwrap(client.GET('/api/ownership/coverage', { params: { query: orgUnitId ? { orgUnitId } : {} } }));
export type Coverage = Awaited<ReturnType<typeof fetchCoverage>>;
export type CoveragePerson = Coverage['people'][number];

export const fetchPool = (page: number, pageSize: number) =>
  unwrap(client.GET('/api/ownership/pool', { params: { query: { page, pageSize } } }));
export type PoolPage = Awaited<ReturnType<typeof fetchPool>>;

export const fetchOwner = (id: number) =>
  unwrap(client.GET('/api/ownership/customers/{id}', { params: { path: { id } } }));
export type OwnerInfo = Awaited<ReturnType<typeof fetchOwner>>;

export const claim = (id: number) =>
  unwrap(client.POST('/api/ownership/pool/{id}/claim', { params: { path: { id } } }));

export const changeOwner = (id: number, ownerUserId: number | null, reason: string) =>
  unwrap(
    client.POST('/api/ownership/customers/{id}/owner', { params: { path: { id } }, body: { ownerUserId, reason } }),
  );

export interface ReassignInput {
  fromUserId: number;
  toUserId: number;
  orgUnitId?: number;
  kind?: string;
}
export const previewReassign = (body: ReassignInput) =>
  unwrap(client.POST('/api/ownership/reassign/preview', { body }));
export const reassign = (body: ReassignInput & { reason: string }) =>
  unwrap(client.POST('/api/ownership/reassign', { body }));
