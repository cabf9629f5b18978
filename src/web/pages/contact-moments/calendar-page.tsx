// 营业日历: a unit's year at a glance — statutory holidays (red), make-up working days (blue), weekends
// (grey), the company's own marks (outlined) — and, for those allowed, marking or unmarking a day.
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Flex,
  Form,
  Input,
  Modal,
  Radio,
  Row,
  Select,
  Spin,
  Tag,
  Typography,
} from 'antd';
import dayjs from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { useAccess } from '../../access.js';
import { errorText, useShowError } from '../../shared/errors.js';
import { OrgTreeSelect } from '../../shared/org-tree-select.js';
import { useMe } from '../../shared/session.js';
import { Page } from '../../shared/page.js';
import { timeZoneName } from '../../shared/time-zones.js';
import type { CalendarDay, CalendarYear } from './labels.js';

const clock = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

function dayStyle(d: CalendarDay): React.CSSProperties {
  const base: React.CSSProperties = { textAlign: 'center', borderRadius: 4, padding: '2px 0', cursor: 'pointer' };
  if (d.mark?.kind === 'holiday') return { ...base, background: '#ff4d4f', color: '#fff' };
  if (d.mark?.kind === 'workday') return { ...base, background: '#1677ff', color: '#fff' };
  if (!d.working) return { ...base, background: '#f0f0f0', color: '#8c8c8c' };
  return base;
}

function Month({ month, days, onPick }: { month: number; days: CalendarDay[]; onPick: (d: CalendarDay) => void }) {
  const { t } = useTranslation();
  const first = dayjs(days[0]!.day);
  // Weeks start on Monday, as Chinese calendars print them.
  const lead = (first.day() + 6) % 7;
  const cells: (CalendarDay | null)[] = [...Array<null>(lead).fill(null), ...days];
  const weekdays = t('moments.weekdays').split(',');
  return (
    <Card size="small" title={t('moments.month', { month })} styles={{ body: { padding: 8 } }}>
      <div style={{ display: 'grid', gridTemplateColumns: 'repeat(7, 1fr)', gap: 2, fontSize: 12 }}>
        {weekdays.map((w) => (
          <div key={w} style={{ textAlign: 'center', color: '#8c8c8c' }}>
            {w}
          </div>
        ))}
        {cells.map((d, i) =>
          d ? (
            <div
              key={d.day}
              style={{ ...dayStyle(d), outline: d.mark?.source === 'override' ? '2px solid #faad14' : undefined }}
              title={d.mark?.name ?? undefined}
              onClick={() => onPick(d)}
              data-testid={`day-${d.day}`}
            >
              {Number(d.day.slice(8))}
            </div>
          ) : (
            <div key={`blank-${i}`} />
          ),
        )}
      </div>
    </Card>
  );
}

function DayModal({
  unitId,
  year,
  day,
  onClose,
}: {
  unitId: number;
  year: CalendarYear;
  day: CalendarDay | null;
  onClose: () => void;
}) {
  const { t, i18n } = useTranslation();
  const access = useAccess();
  const [form] = Form.useForm<{ kind: 'holiday' | 'workday'; name?: string }>();
  const qc = useQueryClient();
  const showError = useShowError();
  const { message } = App.useApp();
  if (!day) return null;
  const own = year.overrides.find((o) => o.day === day.day);
  const markName = day.mark && (i18n.language === 'en-US' ? (day.mark.nameEn ?? day.mark.name) : day.mark.name);
  const done = async () => {
    await qc.invalidateQueries({ queryKey: ['calendar'] });
    void message.success(t('moments.saved'));
    onClose();
  };
  const save = async (v: { kind: 'holiday' | 'workday'; name?: string }) => {
    try {
      await unwrap(
        client.PUT('/api/calendar/{id}/overrides/{day}', {
          params: { path: { id: unitId, day: day.day } },
          body: { kind: v.kind, name: v.name?.trim() || null },
        }),
      );
      await done();
    } catch (err) {
      showError(err, form);
    }
  };
  const remove = async () => {
    try {
      await unwrap(
        client.DELETE('/api/calendar/{id}/overrides/{day}', { params: { path: { id: unitId, day: day.day } } }),
      );
      await done();
    } catch (err) {
      showError(err);
    }
  };
  return (
    <Modal open title={dayjs(day.day).format('YYYY-MM-DD')} onCancel={onClose} footer={null} destroyOnHidden>
      <Typography.Paragraph>
        {day.working ? t('moments.workingDay') : t('moments.dayOff')}
        {markName && ` · ${markName}`}
        {day.mark && ` · ${t(`moments.source.${day.mark.source}`)}`}
        {day.mark?.source === 'override' && day.mark.orgUnitName && ` (${day.mark.orgUnitName})`}
      </Typography.Paragraph>
      {access.canWriteCalendar ? (
        <Form
          form={form}
          layout="vertical"
          onFinish={save}
          initialValues={{ kind: own?.kind ?? (day.working ? 'holiday' : 'workday'), name: own?.name ?? '' }}
        >
          <Form.Item name="kind" label={t('moments.markAs')}>
            <Radio.Group
              optionType="button"
              options={[
                { value: 'holiday', label: t('moments.dayKinds.holiday') },
                { value: 'workday', label: t('moments.dayKinds.workday') },
              ]}
            />
          </Form.Item>
          <Form.Item name="name" label={t('moments.dayName')}>
            <Input maxLength={100} placeholder={t('moments.dayNamePlaceholder')} />
          </Form.Item>
          <Flex gap={8}>
            <Button type="primary" htmlType="submit" data-testid="day-save">
              {t('moments.save')}
            </Button>
            {own && (
              <Button danger onClick={() => void remove()} data-testid="day-remove">
                {t('moments.unmark')}
              </Button>
            )}
          </Flex>
        </Form>
      ) : (
        <Typography.Text type="secondary">{t('moments.calendarReadOnly')}</Typography.Text>
      )}
    </Modal>
  );
}

export function CalendarPage() {
  const { t, i18n } = useTranslation();
  const me = useMe().data;
  const [unit, setUnit] = useState<number | undefined>(undefined);
  const unitId = unit ?? me?.orgUnitId;
  const [year, setYear] = useState(dayjs().year());
  const [picked, setPicked] = useState<CalendarDay | null>(null);
  const query = useQuery({
    queryKey: ['calendar', unitId, year],
    queryFn: () => unwrap(client.GET('/api/calendar/{id}', { params: { path: { id: unitId! }, query: { year } } })),
    enabled: unitId !== undefined,
  });
  const months = useMemo(() => {
    const out: CalendarDay[][] = Array.from({ length: 12 }, () => []);
    for (const d of query.data?.days ?? []) out[Number(d.day.slice(5, 7)) - 1]!.push(d);
    return out;
  }, [query.data]);
  const data = query.data;
  const offDays = data ? data.days.filter((d) => !d.working).length : 0;
  return (
    <Page title={t('moments.calendarTitle')}>
      <Typography.Paragraph type="secondary">{t('moments.calendarIntro')}</Typography.Paragraph>
      <Flex gap={8} wrap style={{ marginBottom: 12 }} align="center">
        <OrgTreeSelect value={unitId} onChange={(v) => setUnit(v)} style={{ minWidth: 220 }} />
        <Select
          value={year}
          onChange={setYear}
          options={[-1, 0, 1].map((n) => ({ value: dayjs().year() + n, label: String(dayjs().year() + n) }))}
          data-testid="calendar-year"
        />
        {data && (
          <Typography.Text type="secondary">
            {t('moments.calendarSummary', {
              zone: timeZoneName(data.timeZone, i18n.language),
              from: clock(data.workdayStart),
              to: clock(data.workdayEnd),
              working: data.days.length - offDays,
              off: offDays,
            })}
          </Typography.Text>
        )}
      </Flex>
      <Flex gap={8} wrap style={{ marginBottom: 12 }}>
        <Tag color="#ff4d4f">{t('moments.legend.holiday')}</Tag>
        <Tag color="#1677ff">{t('moments.legend.workday')}</Tag>
        <Tag>{t('moments.legend.weekend')}</Tag>
        <Tag style={{ outline: '2px solid #faad14' }}>{t('moments.legend.override')}</Tag>
      </Flex>
      {query.isError && <Alert type="error" showIcon title={errorText(query.error)} />}
      {data && !data.days.some((d) => d.mark?.source === 'statutory' && d.mark.kind === 'holiday') && (
        <Alert type="warning" showIcon title={t('moments.noStatutory', { year })} style={{ marginBottom: 12 }} />
      )}
      <Spin spinning={query.isFetching}>
        <Row gutter={[8, 8]}>
          {months.map((days, i) =>
            days.length > 0 ? (
              <Col key={i} xs={24} sm={12} md={8} xl={6}>
                <Month month={i + 1} days={days} onPick={setPicked} />
              </Col>
            ) : null,
          )}
        </Row>
      </Spin>
      {data && unitId !== undefined && (
        <DayModal unitId={unitId} year={data} day={picked} onClose={() => setPicked(null)} />
      )}
    </Page>
  );
}
