import { describe, expect, it } from 'vitest';
import { parseTopup, topupDifferences, type TopupContent } from './card-topup.js';

const NOW = Date.UTC(2026, 10, 22, 12);
const good = {
  externalId: 'T-1',
  occurredAt: '2026-11-22T08:30:00+08:00',
  cardNo: '9000 1234-5678',
  amountFen: 200_000,
};

describe('parseTopup', () => {
  it('normalises a good row; the bonus defaults to 0', () => {
    expect(parseTopup(good, NOW)).toEqual({
      ok: true,
      value: {
        externalId: 'T-1',
        timeMs: Date.UTC(2026, 10, 22, 0, 30),
        local: false,
        utcText: null,
        stationCode: null,
        cardNo: '900012345678',
        amountFen: 200_000,
        bonusFen: 0,
        payment: null,
      },
    });
    const withAll = parseTopup(
      { ...good, occurredAt: '2026-11-22 08:30', stationCode: 'S1', bonusFen: 4_000, payment: 'mobile' },
      NOW,
    );
    expect(withAll).toMatchObject({
      ok: true,
      value: {
        local: true,
        timeMs: Date.UTC(2026, 10, 22, 8, 30),
        stationCode: 'S1',
        bonusFen: 4_000,
        payment: 'mobile',
      },
    });
    expect(parseTopup({ ...good, externalId: 12345 }, NOW)).toMatchObject({ ok: true, value: { externalId: '12345' } });
  });

  it('names every field that is wrong', () => {
    const r = parseTopup(
      {
        externalId: '',
        occurredAt: 'yesterday',
        cardNo: '12',
        amountFen: 0,
        bonusFen: -5,
        payment: 'card',
        product: '92#',
      },
      NOW,
    );
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.problems.map((p) => [p.field, p.code])).toEqual([
        ['product', 'UNKNOWN_FIELD'],
        ['externalId', 'REQUIRED'],
        ['occurredAt', 'INVALID'],
        ['cardNo', 'INVALID'],
        ['amountFen', 'OUT_OF_RANGE'],
        ['bonusFen', 'OUT_OF_RANGE'],
        ['payment', 'INVALID'],
      ]);
  });

  it('needs a card and an amount, refuses the future and anything but an object', () => {
    const r = parseTopup({ externalId: 'T-2', occurredAt: good.occurredAt }, NOW);
    expect(!r.ok && r.problems.map((p) => [p.field, p.code])).toEqual([
      ['cardNo', 'REQUIRED'],
      ['amountFen', 'REQUIRED'],
    ]);
    expect(parseTopup({ ...good, amountFen: 1.5 }, NOW)).toMatchObject({
      ok: false,
      problems: [{ field: 'amountFen', code: 'WRONG_TYPE' }],
    });
    expect(parseTopup({ ...good, occurredAt: '2026-12-01T00:00:00Z' }, NOW)).toMatchObject({
      ok: false,
      problems: [{ field: 'occurredAt', code: 'OUT_OF_RANGE' }],
    });
    expect(parseTopup([good], NOW)).toMatchObject({ ok: false, problems: [{ code: 'NOT_AN_OBJECT' }] });
  });
});

describe('topupDifferences', () => {
  const topup: TopupContent = {
    timeMs: NOW,
    orgUnitId: 5,
    cardNo: '9000',
    amountFen: 100_000,
    bonusFen: 0,
    payment: null,
  };

  it('finds no difference in the same top-up sent again, and names each changed field', () => {
    expect(topupDifferences(topup, { ...topup })).toEqual([]);
    expect(topupDifferences(topup, { ...topup, orgUnitId: 6, bonusFen: 500 })).toEqual(['stationCode', 'bonusFen']);
    expect(
      topupDifferences(topup, { timeMs: 0, orgUnitId: 5, cardNo: '9001', amountFen: 1, bonusFen: 0, payment: 'cash' }),
    ).toEqual(['occurredAt', 'cardNo', 'amountFen', 'payment']);
  });
});
