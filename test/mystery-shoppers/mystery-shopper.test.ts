// The pure rules: the weighted score and the critical automatic fail, the visit window in the
// station's zone, and where a corrective action goes.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  actionScope,
  checkWindow,
  scoreVisit,
  validateForm,
  type FormDefinition,
} from '../../src/domain/mystery-shopper.js';

const def: FormDefinition = {
  title: '检查表',
  passPercent: 80,
  sections: [
    {
      title: '服务',
      items: [
        { key: 'a', text: 'A', weight: 3, critical: false, photoRequired: false, answerType: 'yes_no', maxScore: null },
        { key: 'b', text: 'B', weight: 1, critical: true, photoRequired: false, answerType: 'yes_no', maxScore: null },
        { key: 'c', text: 'C', weight: 4, critical: false, photoRequired: false, answerType: 'score', maxScore: 4 },
      ],
    },
  ],
};

describe('mystery-shopper rules', () => {
  it('weights items by their points and fails a visit on a failed critical item', () => {
    const full = scoreVisit(
      def,
      new Map([
        ['a', 1],
        ['b', 1],
        ['c', 4],
      ]),
    );
    expect(full).toMatchObject({ permille: 1000, passed: true, criticalFailed: [] });
    const critical = scoreVisit(
      def,
      new Map([
        ['a', 1],
        ['b', 0],
        ['c', 4],
      ]),
    );
    expect(critical).toMatchObject({ permille: 875, passed: false, criticalFailed: ['b'] });
    const low = scoreVisit(
      def,
      new Map([
        ['a', 0],
        ['b', 1],
        ['c', 2],
      ]),
    );
    expect(low.permille).toBe(375);
    expect(low.items.find((i) => i.key === 'c')).toMatchObject({ earned100: 200, failed: true });
  });

  it('keeps the score within 0..100% and never passes a visit with a failed critical item', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 4 }), (a, b, c) => {
        const s = scoreVisit(
          def,
          new Map([
            ['a', a ? 1 : 0],
            ['b', b ? 1 : 0],
            ['c', c],
          ]),
        );
        expect(s.permille).toBeGreaterThanOrEqual(0);
        expect(s.permille).toBeLessThanOrEqual(1000);
        if (!b) expect(s.passed).toBe(false);
      }),
    );
  });

  it('names each problem of a form by its field', () => {
    expect(validateForm(def)).toEqual([]);
    const bad = structuredClone(def);
    bad.sections[0]!.items[0]!.weight = -1;
    bad.passPercent = 0;
    expect(validateForm(bad).map((p) => p.field)).toEqual(['passPercent', 'sections.0.items.0.weight']);
  });

  it('checks the window in the station’s zone', () => {
    const w = { from: '2026-12-01T00:00:00+08:00', to: '2026-12-10T23:59:59+08:00', hourFrom: 7, hourTo: 9 };
    expect(checkWindow(new Date('2026-12-05T23:30:00Z'), w, 'Asia/Shanghai')).toEqual({ ok: true });
    expect(checkWindow(new Date('2026-12-06T01:00:00Z'), w, 'Asia/Shanghai')).toMatchObject({ reason: 'hours' });
    expect(checkWindow(new Date('2026-11-30T15:59:00Z'), w, 'Asia/Shanghai')).toMatchObject({ reason: 'before' });
    expect(checkWindow(new Date('2026-12-10T16:00:00Z'), w, 'Asia/Shanghai')).toMatchObject({ reason: 'after' });
  });

  it('sends an item failed by 30% of stations (at least two) to the network, else to the stations', () => {
    expect(actionScope({ evaluatedStations: 10, failedStations: 3 })).toBe('network');
    expect(actionScope({ evaluatedStations: 10, failedStations: 2 })).toBe('station');
    expect(actionScope({ evaluatedStations: 3, failedStations: 1 })).toBe('station');
    expect(actionScope({ evaluatedStations: 5, failedStations: 0 })).toBeNull();
  });
});
