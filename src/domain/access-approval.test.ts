import { describe, expect, it } from 'vitest';
import { requiredSlots, slotsOf, statusAfter } from './access-approval.js';

describe('archive borrowing approvals', () => {
  it('needs the area rep and the dept head for a business requester', () => {
    expect(requiredSlots(['sales_rep'])).toEqual(['area_rep', 'dept_head']);
  });
  it('also needs the branch manager for anyone from another department', () => {
    expect(requiredSlots(['cs_agent'])).toEqual(['area_rep', 'dept_head', 'branch_manager']);
    expect(requiredSlots(['attendant', 'shift_lead'])).toEqual(['area_rep', 'dept_head', 'branch_manager']);
  });
  it('maps approver roles to slots', () => {
    expect(slotsOf(['area_customer_manager'])).toEqual(['area_rep']);
    expect(slotsOf(['branch_manager', 'branch_dept_head'])).toEqual(['dept_head', 'branch_manager']);
    expect(slotsOf(['attendant'])).toEqual([]);
  });
  it('approves only when every slot approved; any rejection rejects', () => {
    const req = requiredSlots(['sales_rep']);
    expect(statusAfter(req, [{ slot: 'area_rep', decision: 'approve' }])).toBe('pending');
    expect(
      statusAfter(req, [
        { slot: 'area_rep', decision: 'approve' },
        { slot: 'dept_head', decision: 'approve' },
      ]),
    ).toBe('approved');
    expect(
      statusAfter(req, [
        { slot: 'area_rep', decision: 'approve' },
        { slot: 'dept_head', decision: 'reject' },
      ]),
    ).toBe('rejected');
  });
});
