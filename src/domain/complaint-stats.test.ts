import { describe, expect, it } from 'vitest';
import { caseFigures, stageSpans, type StatsEvent } from './complaint-stats.js';

const ev = (action: string, fromState: string | null, toState: string, at: string, detail = {}): StatsEvent => ({
  action,
  fromState,
  toState,
  at,
  detail,
});

describe('stage spans', () => {
  it('restarts the clock on a reassignment, ends a stage on a return, and reads a moved due time', () => {
    const spans = stageSpans(
      [
        ev('take', null, 'verify', '2026-12-01T00:00:00.000Z'),
        ev('reassign', 'verify', 'verify', '2026-12-03T00:00:00.000Z'),
        ev('link', 'verify', 'verify', '2026-12-03T01:00:00.000Z', { otherId: 9 }),
        ev('verify', 'verify', 'review', '2026-12-05T00:00:00.000Z'),
        ev('sla_extension_approve', 'review', 'review', '2026-12-06T00:00:00.000Z', {
          dueAt: '2026-12-20T00:00:00.000Z',
        }),
        ev('return', 'review', 'verify', '2026-12-07T00:00:00.000Z'),
      ],
      72,
    );
    expect(spans.map((s) => [s.stage, s.end, s.dueAt])).toEqual([
      ['verify', 'reassigned', '2026-12-04T00:00:00.000Z'],
      ['verify', 'finished', '2026-12-06T00:00:00.000Z'],
      ['review', 'returned', '2026-12-20T00:00:00.000Z'],
      ['verify', 'running', '2026-12-10T00:00:00.000Z'],
    ]);
  });

  it('counts the first verification after a reassignment on its own clock, and every callback rating', () => {
    const f = caseFigures(
      {
        state: 'verify',
        events: [
          ev('take', null, 'verify', '2026-12-01T00:00:00.000Z'),
          ev('reassign', 'verify', 'verify', '2026-12-03T00:00:00.000Z'),
          ev('verify', 'verify', 'review', '2026-12-05T00:00:00.000Z'),
          ev('review', 'review', 'rectify', '2026-12-05T01:00:00.000Z'),
          ev('rectify', 'rectify', 'callback', '2026-12-05T02:00:00.000Z'),
          ev('callback', 'callback', 'verify', '2026-12-05T03:00:00.000Z', { rating: 2 }),
        ],
        stageHours: 72,
        stageDueAt: '2026-12-08T03:00:00.000Z',
        repeat: false,
        rectifyEvidence: 1,
      },
      '2026-12-06T00:00:00.000Z',
    );
    expect(f).toMatchObject({
      responseDue: true,
      respondedInTime: true,
      ratings: [2],
      stagesFinished: 4,
      stagesInTime: 4,
      reachedRectify: true,
      rectified: true,
      open: true,
      overdue: false,
    });
  });
});
