// Computing a month's rating by hand (the monthly job does it on the 2nd): only months that have
// ended, only the caller's branches; batches the branch has proposed stay as they are.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQueryClient } from '@tanstack/react-query';
import { Alert, Button, DatePicker, Form, List, Modal, Typography } from 'antd';
import { CalculatorOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { BATCH_KEY, BATCHES_KEY, ratingErrorText } from './labels.js';

type Outcome = { orgUnitName: string; outcome: 'computed' | 'recomputed' | 'locked'; customers: number };

export function ComputeButton() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [month, setMonth] = useState<Dayjs>(() => dayjs().subtract(1, 'month').startOf('month'));
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [outcomes, setOutcomes] = useState<Outcome[] | null>(null);

  const close = () => {
    setOpen(false);
    setOutcomes(null);
    setError(null);
  };

  const run = async () => {
    setRunning(true);
    setError(null);
    try {
      setOutcomes(await unwrap(client.POST('/api/ratings/compute', { body: { period: month.format('YYYY-MM') } })));
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: BATCHES_KEY }),
        queryClient.invalidateQueries({ queryKey: BATCH_KEY }),
      ]);
    } catch (err) {
      setError(ratingErrorText(t, err));
    } finally {
      setRunning(false);
    }
  };

  return (
    <>
      <Button icon={<CalculatorOutlined />} onClick={() => setOpen(true)} data-testid="ratings-compute">
        {t('ratings.compute')}
      </Button>
      <Modal
        open={open}
        title={t('ratings.computeTitle')}
        onCancel={close}
        onOk={outcomes ? close : () => void run()}
        okText={outcomes ? t('common.close') : t('ratings.computeRun')}
        cancelButtonProps={outcomes ? { style: { display: 'none' } } : undefined}
        cancelText={t('common.cancel')}
        confirmLoading={running}
        okButtonProps={{ 'data-testid': 'ratings-compute-run' }}
        destroyOnHidden
      >
        {outcomes ? (
          <>
            <Alert type="success" showIcon title={t('ratings.computeDone')} style={{ marginBottom: 8 }} />
            <List
              size="small"
              dataSource={outcomes}
              data-testid="ratings-compute-outcomes"
              renderItem={(o) => (
                <List.Item>
                  {t('ratings.outcomeLine', {
                    branch: o.orgUnitName,
                    outcome: t(`ratings.outcomes.${o.outcome}`),
                    n: o.customers,
                  })}
                </List.Item>
              )}
            />
          </>
        ) : (
          <>
            <Typography.Paragraph type="secondary">{t('ratings.computeHelp')}</Typography.Paragraph>
            <Form layout="vertical">
              <Form.Item label={t('ratings.computeMonth')} required>
                {/* antd does not pass test ids through to the picker's DOM. */}
                <div data-testid="ratings-compute-month">
                  <DatePicker
                    picker="month"
                    value={month}
                    allowClear={false}
                    disabledDate={(d) => !d.isBefore(dayjs().startOf('month'))}
                    onChange={(d: Dayjs | null) => d && setMonth(d)}
                    style={{ width: '100%' }}
                  />
                </div>
              </Form.Item>
            </Form>
            {error && <Alert type="error" showIcon title={error} />}
          </>
        )}
      </Modal>
    </>
  );
}
