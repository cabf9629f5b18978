// 暗访结果: one assignment — the station, the form version it was made on, the score, every item's
// answer and the photos (served only to readers of the station).
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import { Card, Descriptions, Empty, Flex, Image, Spin, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { Page } from '../../shared/page.js';
import { MYSTERY_KEY, ResultTag, windowText } from './shared.js';

export function MysteryAssignmentPage() {
  const { t } = useTranslation();
  const id = Number(useParams().id);
  const q = useQuery({
    queryKey: [...MYSTERY_KEY, 'assignment', id],
    queryFn: () => unwrap(client.GET('/api/mystery/assignments/{id}', { params: { path: { id } } })),
  });
  const a = q.data;
  const answers = new Map((a?.answers ?? []).map((x) => [x.itemKey, x]));
  return (
    <Page title={t('mystery.detail.title')}>
      <Spin spinning={q.isLoading}>
        {a && (
          <Flex vertical gap={10}>
            <Card size="small">
              <Descriptions size="small" column={1}>
                <Descriptions.Item label={t('mystery.station')}>{a.orgUnitName}</Descriptions.Item>
                <Descriptions.Item label={t('mystery.form')}>
                  {a.formTitle} · {t('mystery.version', { v: a.formVersion })}
                </Descriptions.Item>
                <Descriptions.Item label={t('mystery.assignments.window')}>{windowText(t, a)}</Descriptions.Item>
                <Descriptions.Item label={t('mystery.assignments.shopper')}>{a.shopperName}</Descriptions.Item>
                <Descriptions.Item label={t('mystery.score')}>
                  {a.visit ? (
                    <Flex gap={6} align="center" wrap>
                      <Typography.Text strong data-testid="mystery-score">
                        {t('mystery.scoreOf', { score: a.visit.scorePercent })}
                      </Typography.Text>
                      <ResultTag visit={a.visit} />
                      <Typography.Text type="secondary">
                        {dayjs(a.visit.visitedAt).format('YYYY-MM-DD HH:mm')}
                      </Typography.Text>
                    </Flex>
                  ) : (
                    t('mystery.detail.notVisited')
                  )}
                </Descriptions.Item>
              </Descriptions>
              {a.visit?.comment && <div style={{ overflowWrap: 'anywhere' }}>{a.visit.comment}</div>}
            </Card>
            {a.sections.map((sec, si) => (
              <Card size="small" key={si} title={sec.title}>
                <Flex vertical gap={8}>
                  {sec.items.map((it) => {
                    const ans = answers.get(it.key);
                    const photos = a.photos.filter((p) => p.itemKey === it.key);
                    return (
                      <div key={it.key}>
                        <Flex gap={6} wrap align="center">
                          <Typography.Text>{it.text}</Typography.Text>
                          {it.critical && <Tag color="red">{t('mystery.visit.critical')}</Tag>}
                          {ans && (
                            <Tag color={ans.failed ? 'red' : 'green'}>
                              {it.answerType === 'yes_no'
                                ? t(ans.value === 1 ? 'mystery.visit.yes' : 'mystery.visit.no')
                                : `${ans.value}/${it.maxScore}`}
                            </Tag>
                          )}
                          {ans && (
                            <Typography.Text type="secondary">
                              {ans.points}/{it.weight}
                            </Typography.Text>
                          )}
                        </Flex>
                        {photos.length > 0 && (
                          <Image.PreviewGroup>
                            <Flex gap={6} wrap style={{ marginTop: 4 }}>
                              {photos.map((p) => (
                                <Image
                                  key={p.id}
                                  width={96}
                                  height={72}
                                  style={{ objectFit: 'cover' }}
                                  src={`/api/mystery/assignments/${a.id}/photos/${p.id}`}
                                  alt={it.text}
                                />
                              ))}
                            </Flex>
                          </Image.PreviewGroup>
                        )}
                      </div>
                    );
                  })}
                </Flex>
              </Card>
            ))}
          </Flex>
        )}
        {!a && !q.isLoading && <Empty />}
      </Spin>
    </Page>
  );
}
