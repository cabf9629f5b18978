// 记录暗访: the shopper's form on a phone — every item answered (yes/no or a score), photos taken where
// required (sent at once, cleaned by the server), then the visit submitted and its score shown.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate, useParams } from 'react-router-dom';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Card, Flex, Input, Radio, Spin, Tag, Typography, Upload } from 'antd';
import { CameraOutlined } from '@ant-design/icons';
import { ApiError, client, unwrap, uploadFile } from '../../api/client.js';
import { Page } from '../../shared/page.js';
import { useShowError } from '../../shared/errors.js';
import { MYSTERY_KEY, windowText, type FormItem } from './shared.js';

function Answer({ item, value, onChange }: { item: FormItem; value?: number; onChange: (v: number) => void }) {
  const { t } = useTranslation();
  if (item.answerType === 'score')
    return (
      <Radio.Group
        value={value}
        onChange={(e) => onChange(e.target.value as number)}
        optionType="button"
        options={Array.from({ length: (item.maxScore ?? 0) + 1 }, (_, i) => ({ value: i, label: String(i) }))}
        data-testid={`mystery-answer-${item.key}`}
      />
    );
  return (
    <Radio.Group
      value={value}
      onChange={(e) => onChange(e.target.value as number)}
      optionType="button"
      buttonStyle="solid"
      options={[
        { value: 1, label: t('mystery.visit.yes') },
        { value: 0, label: t('mystery.visit.no') },
      ]}
      data-testid={`mystery-answer-${item.key}`}
    />
  );
}

export function MysteryVisitPage() {
  const { t } = useTranslation();
  const id = Number(useParams().id);
  const navigate = useNavigate();
  const { message } = App.useApp();
  const showError = useShowError();
  const qc = useQueryClient();
  const [answers, setAnswers] = useState<Record<string, number>>({});
  const [comment, setComment] = useState('');
  const [uploading, setUploading] = useState<string | null>(null);
  const [outside, setOutside] = useState(false);
  const sheet = useQuery({
    queryKey: [...MYSTERY_KEY, 'sheet', id],
    queryFn: () => unwrap(client.GET('/api/mystery/assignments/{id}/sheet', { params: { path: { id } } })),
  });
  const s = sheet.data;
  const items = s?.sections.flatMap((x) => x.items) ?? [];
  const unanswered = items.filter((i) => answers[i.key] === undefined).length;
  const submit = useMutation({
    mutationFn: () =>
      unwrap(
        client.POST('/api/mystery/assignments/{id}/visit', {
          params: { path: { id } },
          body: {
            answers: Object.entries(answers).map(([itemKey, value]) => ({ itemKey, value })),
            ...(comment.trim() && { comment: comment.trim() }),
          },
        }),
      ),
    onSuccess: (d) => {
      void message.success(t('mystery.visit.submitted', { score: d.visit?.scorePercent ?? 0 }), 6);
      void qc.invalidateQueries({ queryKey: MYSTERY_KEY });
      navigate('/mystery/mine');
    },
    onError: (e) => {
      if (e instanceof ApiError && e.code === 'MYSTERY_OUTSIDE_WINDOW') setOutside(true);
      showError(e);
    },
  });
  const photo = async (item: FormItem, file: File) => {
    setUploading(item.key);
    try {
      await uploadFile(`/api/mystery/assignments/${id}/photos?itemKey=${item.key}`, file);
      await qc.invalidateQueries({ queryKey: [...MYSTERY_KEY, 'sheet', id] });
    } catch (e) {
      showError(e);
    } finally {
      setUploading(null);
    }
  };
  return (
    <Page title={t('mystery.visit.title')}>
      <Spin spinning={sheet.isLoading}>
        {s && (
          <Flex vertical gap={10}>
            <Card size="small">
              <Typography.Text strong>{s.orgUnitName}</Typography.Text>
              <Typography.Text type="secondary" style={{ display: 'block' }}>
                {s.formTitle} · {windowText(t, s)}
              </Typography.Text>
              {s.note && <div style={{ overflowWrap: 'anywhere' }}>{s.note}</div>}
            </Card>
            {outside && (
              <Alert type="warning" showIcon message={t('mystery.visit.outside', { window: windowText(t, s) })} />
            )}
            {s.sections.map((sec, si) => (
              <Card size="small" key={si} title={sec.title}>
                <Flex vertical gap={12}>
                  {sec.items.map((it) => {
                    const photos = s.photos.filter((p) => p.itemKey === it.key).length;
                    return (
                      <div key={it.key} data-testid={`mystery-item-${it.key}`}>
                        <Flex gap={6} wrap align="center">
                          <Typography.Text>{it.text}</Typography.Text>
                          <Typography.Text type="secondary">
                            {t('mystery.visit.points', { n: it.weight })}
                          </Typography.Text>
                          {it.critical && <Tag color="red">{t('mystery.visit.critical')}</Tag>}
                        </Flex>
                        <Flex gap={8} wrap align="center" style={{ marginTop: 4 }}>
                          <Answer
                            item={it}
                            value={answers[it.key]}
                            onChange={(v) => setAnswers((a) => ({ ...a, [it.key]: v }))}
                          />
                          {it.photoRequired && (
                            <Upload
                              accept="image/*"
                              capture="environment"
                              showUploadList={false}
                              beforeUpload={(file) => {
                                void photo(it, file);
                                return false;
                              }}
                            >
                              <Button
                                icon={<CameraOutlined />}
                                loading={uploading === it.key}
                                danger={photos === 0}
                                data-testid={`mystery-photo-${it.key}`}
                              >
                                {photos > 0
                                  ? t('mystery.visit.photoDone', { n: photos })
                                  : t('mystery.visit.photoNeeded')}
                              </Button>
                            </Upload>
                          )}
                        </Flex>
                      </div>
                    );
                  })}
                </Flex>
              </Card>
            ))}
            <Input.TextArea
              rows={3}
              value={comment}
              onChange={(e) => setComment(e.target.value)}
              placeholder={t('mystery.visit.comment')}
            />
            {unanswered > 0 && (
              <Typography.Text type="secondary">{t('mystery.visit.unanswered', { n: unanswered })}</Typography.Text>
            )}
            <Button
              type="primary"
              size="large"
              block
              disabled={unanswered > 0 || s.state !== 'open'}
              loading={submit.isPending}
              onClick={() => submit.mutate()}
              data-testid="mystery-submit"
            >
              {t('mystery.visit.submit')}
            </Button>
          </Flex>
        )}
      </Spin>
    </Page>
  );
}
