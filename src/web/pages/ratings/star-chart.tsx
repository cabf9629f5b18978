// Customers per star count as bars: small in the batch list, larger on a batch's page.
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { Chart, type ChartOption } from '../../shared/chart.js';
import { STAR_COLORS } from './labels.js';

export function StarChart({
  distribution,
  height,
  compact = false,
  testId,
}: {
  distribution: readonly number[];
  height: number;
  compact?: boolean;
  testId?: string;
}) {
  const { t } = useTranslation();
  const option = useMemo<ChartOption>(
    () => ({
      animation: !compact,
      tooltip: compact ? undefined : { trigger: 'axis' },
      grid: compact ? { left: 4, right: 4, top: 16, bottom: 18 } : { left: 40, right: 12, top: 24, bottom: 28 },
      xAxis: {
        type: 'category',
        data: [0, 1, 2, 3, 4].map((n) => t('ratings.starsShort', { n })),
        axisTick: { show: false },
        axisLabel: { fontSize: compact ? 10 : 12, margin: compact ? 4 : 8 },
      },
      yAxis: { type: 'value', show: !compact, minInterval: 1 },
      series: [
        {
          type: 'bar',
          name: t('ratings.customers'),
          barMaxWidth: compact ? 18 : 40,
          label: { show: true, position: 'top', fontSize: compact ? 10 : 12 },
          data: distribution.map((value, i) => ({
            value,
            itemStyle: { color: STAR_COLORS[i], borderRadius: [3, 3, 0, 0] },
          })),
        },
      ],
    }),
    [distribution, compact, t],
  );
  return <Chart option={option} height={height} testId={testId} />;
}
