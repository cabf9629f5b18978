// After a visit is recorded, the customer's owner counts as having followed him up (the public pool
// reclaims customers nobody followed up). The ownership module keeps that mark; this is the one place
// the visits module reaches it.
import type { Tx } from './visits.common.js';

export async function markFollowedUp(_trx: Tx, _customerId: number, _userId: number, _at: string): Promise<void> {
  // The ownership module's marker is not there yet: nothing to mark.
}
