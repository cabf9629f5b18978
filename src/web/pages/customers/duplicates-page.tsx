// Likely duplicates: customers sharing a plate or phone. Pick the record to keep and merge the
// others into it; every merge keeps the history and can be undone from the kept record.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, Empty, Flex, List, Radio, Spin, Tag, Typography } from 'antd';
import { MergeCellsOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { client, unwrap, type ApiData } from '../../api/client.js';
import { useAccess } from '../../access.js';
import { useShowError } from '../../shared/errors.js';
import { Page } from '../../shared/page.js';
import { STEP_COLORS } from './labels.js';

type Group = ApiData<'/api/customers/duplicates'>[number];

function GroupCard({ group, onMerged }: { group: Group; onMerged: () => Promise<unknown> }) {
  const { t } = useTranslation();
  const access = useAccess();
  const { modal, message } = App.useApp();
  const showError = useShowError();
  // Keep the fullest, then the oldest record by default.
  const best = [...group.customers].sort((a, b) => b.profileStep - a.profileStep || a.id - b.id)[0];
  const [keep, setKeep] = useState<number | undefined>(best?.id);
  const label = (c: Group['customers'][number]) => `${c.name ?? c.plates[0] ?? ''} (${c.code})`;
  const survivor = group.customers.find((c) => c.id === keep);
  const others = group.customers.filter((c) => c.id !== keep);

  const merge = () =>
    survivor &&
    modal.confirm({
      title: t('duplicates.mergeInto'),
      content: t('duplicates.mergeConfirm', { merged: others.map(label).join('、'), survivor: label(survivor) }),
      okText: t('common.confirm'),
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          for (const o of others)
            await unwrap(
              client.POST('/api/customers/{id}/merge', {
                params: { path: { id: survivor.id } },
                body: { mergedId: o.id },
              }),
            );
          void message.success(t('duplicates.merged'));
          await onMerged();
        } catch (err) {
          showError(err);
        }
      },
    });

  return (
    <Card
      size="small"
      title={
        <Flex gap={8} align="center">
          <Tag color="orange">{t(`duplicates.on.${group.on as 'plate' | 'phone'}`)}</Tag>
          <span>{group.value}</span>
        </Flex>
      }
      extra={
        access.canMergeCustomers &&
        group.customers.length > 1 && (
          <Button
            size="small"
            type="primary"
            icon={<MergeCellsOutlined />}
            onClick={merge}
            data-testid={`dup-merge-${group.value}`}
          >
            {t('duplicates.mergeInto')}
          </Button>
        )
      }
    >
      <Radio.Group value={keep} onChange={(e) => setKeep(e.target.value as number)} style={{ width: '100%' }}>
        <List
          size="small"
          dataSource={group.customers}
          renderItem={(c) => (
            <List.Item>
              <Flex gap={8} align="center" wrap style={{ width: '100%' }}>
                {access.canMergeCustomers && <Radio value={c.id} aria-label={t('duplicates.keep')} />}
                <Link to={`/customers/${c.id}`}>{label(c)}</Link>
                <Tag color={STEP_COLORS[c.profileStep]}>{t('customers.step', { step: c.profileStep })}</Tag>
                <Typography.Text type="secondary">
                  {c.orgUnitName} · {c.plates.join('、')} {c.phones.join('、')}
                  {c.lastVisitAt && ` · ${dayjs(c.lastVisitAt).format('YYYY-MM-DD')}`}
                </Typography.Text>
                {c.id === keep && access.canMergeCustomers && <Tag color="green">{t('duplicates.keep')}</Tag>}
              </Flex>
            </List.Item>
          )}
        />
      </Radio.Group>
    </Card>
  );
}

export function DuplicatesPage() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const groups = useQuery({
    queryKey: ['customer-duplicates'],
    queryFn: () => unwrap(client.GET('/api/customers/duplicates')),
  });
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: ['customer-duplicates'] }),
      queryClient.invalidateQueries({ queryKey: ['customers'] }),
    ]);
  const visible = (groups.data ?? []).filter((g) => g.customers.length > 1);

  return (
    <Page title={t('duplicates.title')}>
      <Typography.Paragraph type="secondary">{t('duplicates.intro')}</Typography.Paragraph>
      {groups.isPending ? (
        <Spin />
      ) : visible.length === 0 ? (
        <Card>
          <Empty description={t('duplicates.empty')} />
        </Card>
      ) : (
        <Flex vertical gap={12} data-testid="duplicates">
          {visible.map((g) => (
            <GroupCard key={`${g.on}:${g.value}`} group={g} onMerged={refresh} />
          ))}
        </Flex>
      )}
    </Page>
  );
}
