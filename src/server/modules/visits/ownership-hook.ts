// After a visit is recorded, the customer's owner counts as having followed him up (the public pool
// reclaims customers nobody followed up). The ownership module keeps that mark; this is the one place
// the visits module reaches it.
import type { Tx } from './visits.common.js';
import { markFollowedUp as markOwnerFollowUp } from '../ownership/ownership.service.js';

export async function markFollowedUp(trx: Tx, customerId: number, userId: number, at: string): Promise<void> {
  await markOwnerFollowUp(trx, customerId, userId, at);
}
