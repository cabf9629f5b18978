import { describe, expect, it } from 'vitest';
import {
  parseTime,
  parseTransaction,
  sameFillUp,
  paidByCard,
  saleDifferences,
  type SaleContent,
} from './fuel-transaction.js';
import { businessDay, meanIntervalDays, zonedToUtc } from './business-day.js';

const NOW = Date.UTC(2026, 10, 22, 12);
const good = {
  externalId: 'A-1',
  occurredAt: '2026-11-22T08:30:00+08:00',
  product: '92#',
  volumeLitres: 40.5,
  amountFen: 30_780,
};

describe('parseTransaction', () => {
  it('normalises a good row', () => {
    const r = parseTransaction({ ...good, cardNo: '9000 1234-5678', plate: '冀a·12345', unitPriceFen: 760 }, NOW);
    expect(r).toEqual({
      ok: true,
      value: expect.objectContaining({
        externalId: 'A-1',
        timeMs: Date.UTC(2026, 10, 22, 0, 30),
        local: false,
        cardNo: '900012345678',
        plate: '冀A12345',
        volumeMl: 40_500,
        businessLine: 'retail',
        payment: null,
      }),
    });
  });

  it('names every field that is wrong', () => {
    const r = parseTransaction(
      {
        externalId: '',
        occurredAt: 'yesterday',
        product: ['92#'],
        volumeMl: 1.5,
        amountFen: -1,
        plate: '冀I12345',
        businessLine: 'gas',
        extra: true,
      },
      NOW,
    );
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.problems.map((p) => [p.field, p.code])).toEqual([
        ['extra', 'UNKNOWN_FIELD'],
        ['externalId', 'REQUIRED'],
        ['occurredAt', 'INVALID'],
        ['plate', 'INVALID'],
        ['product', 'WRONG_TYPE'],
        ['businessLine', 'INVALID'],
        ['volumeMl', 'WRONG_TYPE'],
        ['amountFen', 'OUT_OF_RANGE'],
      ]);
  });

  it('refuses sales dated in the future and volumes given twice', () => {
    expect(parseTransaction({ ...good, occurredAt: '2026-12-01T00:00:00Z' }, NOW).ok).toBe(false);
    const both = parseTransaction({ ...good, volumeMl: 40_500 }, NOW);
    expect(!both.ok && both.problems[0]!.field).toBe('volumeLitres');
    expect(parseTransaction([good], NOW)).toMatchObject({ ok: false, problems: [{ code: 'NOT_AN_OBJECT' }] });
  });
});

describe('times and business days', () => {
  it('reads offsets, Z and wall-clock times', () => {
    expect(parseTime('2026-11-22 08:30')).toEqual({ ok: true, ms: Date.UTC(2026, 10, 22, 8, 30), local: true });
    expect(parseTime('2026-11-22T08:30:00.250-0130')).toEqual({
      ok: true,
      ms: Date.UTC(2026, 10, 22, 10, 0, 0, 250),
      local: false,
    });
    expect(parseTime('2026-02-29T08:30:00Z').ok).toBe(false);
    expect(parseTime('2026-11-22T24:00:00Z').ok).toBe(false);
  });

  it('puts a sale on the station’s calendar day', () => {
    // 23:30 UTC is the next morning in Shanghai.
    expect(businessDay(Date.UTC(2026, 10, 21, 23, 30), 'Asia/Shanghai')).toBe('2026-11-22');
    expect(businessDay(Date.UTC(2026, 10, 21, 23, 30), 'UTC')).toBe('2026-11-21');
    expect(zonedToUtc(Date.UTC(2026, 10, 22, 8, 0), 'Asia/Shanghai')).toBe(Date.UTC(2026, 10, 22, 0, 0));
    // Across a daylight-saving change the offset of the wall-clock time is used.
    expect(zonedToUtc(Date.UTC(2026, 6, 1, 12, 0), 'Europe/Berlin')).toBe(Date.UTC(2026, 6, 1, 10, 0));
    expect(zonedToUtc(Date.UTC(2026, 0, 1, 12, 0), 'Europe/Berlin')).toBe(Date.UTC(2026, 0, 1, 11, 0));
  });

  it('takes the usual interval as the mean gap between visit days', () => {
    // Visits on the 1st, 3rd and 7th: gaps 2 and 4.
    expect(meanIntervalDays('2026-11-01', '2026-11-07', 3)).toBe(3);
    expect(meanIntervalDays('2026-11-01', '2026-11-01', 1)).toBeNull();
  });
});

describe('one fill-up counts once', () => {
  const card = { customerId: 1, orgUnitId: 5, product: '0#柴油', timeMs: Date.UTC(2026, 10, 22, 8), volumeMl: 200_000 };
  it('matches the same customer, station and product within 30 minutes and 5% of the volume', () => {
    expect(sameFillUp(card, { ...card, timeMs: card.timeMs - 29 * 60_000, volumeMl: 190_500 })).toBe(true);
    expect(sameFillUp(card, { ...card, timeMs: card.timeMs + 31 * 60_000 })).toBe(false);
    expect(sameFillUp(card, { ...card, volumeMl: 189_000 })).toBe(false);
    expect(sameFillUp(card, { ...card, product: '92#' })).toBe(false);
    expect(sameFillUp(card, { ...card, orgUnitId: 6 })).toBe(false);
    expect(sameFillUp(card, { ...card, customerId: 2 })).toBe(false);
  });

  it('counts a sale as paid by card when it says so, or carries a card and says nothing', () => {
    expect(paidByCard(null, '9000')).toBe(true);
    expect(paidByCard('cash', '9000')).toBe(false);
    expect(paidByCard(null, null)).toBe(false);
  });
});

describe('saleDifferences', () => {
  const sale: SaleContent = {
    timeMs: NOW,
    orgUnitId: 5,
    cardNo: '9000',
    plate: '冀A12345',
    product: '92#',
    businessLine: 'retail',
    volumeMl: 40_000,
    unitPriceFen: 760,
    amountFen: 30_400,
    payment: null,
  };

  it('finds no difference in the same sale sent again', () => {
    expect(saleDifferences(sale, { ...sale })).toEqual([]);
  });

  it('names every field that changed, by its name in a row', () => {
    const again = {
      ...sale,
      timeMs: NOW + 1,
      orgUnitId: 6,
      cardNo: null,
      plate: '冀A12346',
      product: '95#',
      businessLine: 'card',
    };
    expect(saleDifferences(sale, { ...again, volumeMl: 1, unitPriceFen: null, amountFen: 1, payment: 'cash' })).toEqual(
      [
        'occurredAt',
        'stationCode',
        'cardNo',
        'plate',
        'product',
        'businessLine',
        'volumeMl',
        'unitPriceFen',
        'amountFen',
        'payment',
      ],
    );
  });
});
