// Dashboard answers are snapshots (see the API's asOf): each tab says when its figures were
// computed and offers to compute them now.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { keepPreviousData, useQuery, useQueryClient, type QueryKey } from '@tanstack/react-query';
import { App, Button, Space, Typography } from 'antd';
import { ReloadOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { errorText } from '../../shared/errors.js';

/** A query whose answer carries asOf, and a refresh that asks the server to compute it afresh. */
export function useSnapshotQuery<T extends { asOf: string }>(
  queryKey: QueryKey,
  fetch: (refresh: boolean) => Promise<T>,
  enabled = true,
) {
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [refreshing, setRefreshing] = useState(false);
  const query = useQuery({ queryKey, queryFn: () => fetch(false), placeholderData: keepPreviousData, enabled });
  const refresh = async () => {
    setRefreshing(true);
    try {
      queryClient.setQueryData(queryKey, await fetch(true));
    } catch (err) {
      void message.error(errorText(err));
    } finally {
      setRefreshing(false);
    }
  };
  return { query, refresh, refreshing };
}

export function AsOfBar({
  asOf,
  onRefresh,
  refreshing,
}: {
  asOf: string | undefined;
  onRefresh: () => void;
  refreshing: boolean;
}) {
  const { t } = useTranslation();
  if (!asOf) return null;
  const at = dayjs(asOf);
  const minutes = Math.max(0, dayjs().diff(at, 'minute'));
  return (
    <Space size={4} wrap style={{ marginBottom: 8 }} data-testid="dash-as-of">
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {t(minutes < 1 ? 'dashboard.asOfNow' : 'dashboard.asOf', {
          time: at.format(at.isSame(dayjs(), 'day') ? 'HH:mm' : 'YYYY-MM-DD HH:mm'),
          minutes,
        })}
      </Typography.Text>
      <Button
        size="small"
        type="link"
        icon={<ReloadOutlined />}
        loading={refreshing}
        onClick={onRefresh}
        data-testid="dash-refresh"
      >
        {t('dashboard.refresh')}
      </Button>
    </Space>
  );
}
