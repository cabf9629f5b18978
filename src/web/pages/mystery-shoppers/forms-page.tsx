// 暗访检查表: HQ's evaluation forms. A draft is edited in place; publishing freezes it; editing a
// published version saves the next version's draft, so visits keep the version they were made on.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  App,
  Button,
  Card,
  Drawer,
  Empty,
  Flex,
  Form,
  Input,
  InputNumber,
  Select,
  Spin,
  Switch,
  Tag,
  Typography,
} from 'antd';
import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { Page } from '../../shared/page.js';
import { useShowError } from '../../shared/errors.js';
import { useIsPhone } from '../../shared/use-is-phone.js';
import { MYSTERY_KEY, type FormSection, type MysteryForm } from './shared.js';

interface Values {
  code?: string;
  title: string;
  passPercent: number;
  sections: FormSection[];
}

let seq = 0;
/** A key for a new item: stable once saved, so later versions count the same question together. */
const newKey = () => `i${Date.now().toString(36)}${(seq++).toString(36)}`;
const blankItem = () => ({
  key: newKey(),
  text: '',
  weight: 10,
  critical: false,
  photoRequired: false,
  answerType: 'yes_no' as const,
  maxScore: null,
});

const STATE_COLORS: Record<string, string> = { draft: 'gold', published: 'green', retired: 'default' };

function Editor({ isNew }: { isNew: boolean }) {
  const { t } = useTranslation();
  return (
    <>
      {isNew && (
        <Form.Item
          name="code"
          label={t('mystery.forms.code')}
          extra={t('mystery.forms.codeHelp')}
          rules={[{ required: true }]}
        >
          <Input maxLength={32} data-testid="mystery-form-code" />
        </Form.Item>
      )}
      <Form.Item name="title" label={t('mystery.forms.formTitle')} rules={[{ required: true }]}>
        <Input maxLength={200} data-testid="mystery-form-title" />
      </Form.Item>
      <Form.Item name="passPercent" label={t('mystery.forms.passPercent')} rules={[{ required: true }]}>
        <InputNumber min={1} max={100} />
      </Form.Item>
      <Form.List name="sections">
        {(sections, { add, remove }) => (
          <Flex vertical gap={12}>
            {sections.map((sec) => (
              <Card
                size="small"
                key={sec.key}
                title={
                  <Form.Item name={[sec.name, 'title']} noStyle rules={[{ required: true }]}>
                    <Input placeholder={t('mystery.forms.sectionTitle')} maxLength={200} />
                  </Form.Item>
                }
                extra={
                  <Button
                    size="small"
                    type="text"
                    danger
                    icon={<DeleteOutlined />}
                    aria-label={t('mystery.forms.remove')}
                    onClick={() => remove(sec.name)}
                  />
                }
              >
                <Form.List name={[sec.name, 'items']}>
                  {(items, itemOps) => (
                    <Flex vertical gap={8}>
                      {items.map((it) => (
                        <Card size="small" key={it.key} type="inner">
                          <Form.Item name={[it.name, 'key']} hidden>
                            <Input />
                          </Form.Item>
                          <Flex gap={8} align="start">
                            <Form.Item
                              name={[it.name, 'text']}
                              style={{ flex: 1, marginBottom: 8 }}
                              rules={[{ required: true }]}
                            >
                              <Input.TextArea autoSize placeholder={t('mystery.forms.itemText')} maxLength={500} />
                            </Form.Item>
                            <Button
                              type="text"
                              danger
                              icon={<DeleteOutlined />}
                              aria-label={t('mystery.forms.remove')}
                              onClick={() => itemOps.remove(it.name)}
                            />
                          </Flex>
                          <Flex gap={12} wrap align="center">
                            <Form.Item
                              name={[it.name, 'weight']}
                              label={t('mystery.forms.weight')}
                              style={{ marginBottom: 0 }}
                            >
                              <InputNumber min={1} max={100} style={{ width: 72 }} />
                            </Form.Item>
                            <Form.Item
                              name={[it.name, 'answerType']}
                              label={t('mystery.forms.answerType')}
                              style={{ marginBottom: 0 }}
                            >
                              <Select
                                style={{ width: 120 }}
                                options={[
                                  { value: 'yes_no', label: t('mystery.forms.yesNo') },
                                  { value: 'score', label: t('mystery.forms.scored') },
                                ]}
                              />
                            </Form.Item>
                            <Form.Item noStyle shouldUpdate>
                              {({ getFieldValue }) =>
                                getFieldValue(['sections', sec.name, 'items', it.name, 'answerType']) === 'score' ? (
                                  <Form.Item
                                    name={[it.name, 'maxScore']}
                                    label={t('mystery.forms.maxScore')}
                                    style={{ marginBottom: 0 }}
                                  >
                                    <InputNumber min={1} max={10} style={{ width: 64 }} />
                                  </Form.Item>
                                ) : null
                              }
                            </Form.Item>
                            <Form.Item
                              name={[it.name, 'critical']}
                              label={t('mystery.forms.critical')}
                              valuePropName="checked"
                              style={{ marginBottom: 0 }}
                            >
                              <Switch size="small" />
                            </Form.Item>
                            <Form.Item
                              name={[it.name, 'photoRequired']}
                              label={t('mystery.forms.photoRequired')}
                              valuePropName="checked"
                              style={{ marginBottom: 0 }}
                            >
                              <Switch size="small" />
                            </Form.Item>
                          </Flex>
                        </Card>
                      ))}
                      <Button
                        icon={<PlusOutlined />}
                        onClick={() => itemOps.add(blankItem())}
                        data-testid="mystery-form-add-item"
                      >
                        {t('mystery.forms.addItem')}
                      </Button>
                    </Flex>
                  )}
                </Form.List>
              </Card>
            ))}
            <Button
              type="dashed"
              icon={<PlusOutlined />}
              onClick={() => add({ title: '', items: [blankItem()] })}
              data-testid="mystery-form-add-section"
            >
              {t('mystery.forms.addSection')}
            </Button>
          </Flex>
        )}
      </Form.List>
    </>
  );
}

export function MysteryFormsPage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const showError = useShowError();
  const qc = useQueryClient();
  const phone = useIsPhone();
  const [editing, setEditing] = useState<MysteryForm | 'new' | null>(null);
  const [form] = Form.useForm<Values>();
  const forms = useQuery({
    queryKey: [...MYSTERY_KEY, 'forms'],
    queryFn: () => unwrap(client.GET('/api/mystery/forms')),
  });
  const done = (text: string) => {
    void message.success(text);
    void qc.invalidateQueries({ queryKey: MYSTERY_KEY });
  };
  const save = useMutation({
    mutationFn: (v: Values) => {
      const sections = v.sections.map((s) => ({
        title: s.title,
        items: s.items.map((i) => ({ ...i, maxScore: i.answerType === 'score' ? (i.maxScore ?? null) : null })),
      }));
      const body = { title: v.title, passPercent: v.passPercent, sections };
      return editing === 'new' || editing === null
        ? unwrap(client.POST('/api/mystery/forms', { body: { ...body, code: v.code ?? '' } }))
        : unwrap(client.PUT('/api/mystery/forms/{id}', { params: { path: { id: editing.id } }, body }));
    },
    onSuccess: () => {
      done(t('mystery.forms.saved'));
      setEditing(null);
    },
    onError: (e) => showError(e, form),
  });
  const publish = useMutation({
    mutationFn: (id: number) => unwrap(client.POST('/api/mystery/forms/{id}/publish', { params: { path: { id } } })),
    onSuccess: () => done(t('mystery.forms.publishedOk')),
    onError: (e) => showError(e),
  });
  const open = (f: MysteryForm | 'new') => {
    setEditing(f);
    form.setFieldsValue(
      f === 'new'
        ? { code: '', title: '', passPercent: 80, sections: [{ title: '', items: [blankItem()] }] }
        : { title: f.title, passPercent: f.passPercent, sections: f.sections },
    );
  };
  const list = forms.data ?? [];
  return (
    <Page
      title={t('mystery.forms.title')}
      extra={
        <Button type="primary" icon={<PlusOutlined />} onClick={() => open('new')} data-testid="mystery-form-new">
          {t('mystery.forms.new')}
        </Button>
      }
    >
      <Typography.Paragraph type="secondary">{t('mystery.forms.intro')}</Typography.Paragraph>
      <Spin spinning={forms.isFetching}>
        {list.length === 0 ? (
          <Empty description={t('mystery.forms.empty')} />
        ) : (
          <Flex vertical gap={8}>
            {list.map((f) => (
              <Card size="small" key={f.id} data-testid={`mystery-form-${f.id}`}>
                <Flex gap={6} wrap align="center">
                  <Typography.Text strong>{f.title}</Typography.Text>
                  <Tag>{t('mystery.version', { v: f.version })}</Tag>
                  <Tag color={STATE_COLORS[f.state]}>{t(`mystery.forms.states.${f.state as 'draft'}`)}</Tag>
                </Flex>
                <Typography.Text type="secondary" style={{ display: 'block' }}>
                  {t('mystery.forms.itemCount', { n: f.itemCount })} · {f.passPercent}% ·{' '}
                  {dayjs(f.publishedAt ?? f.updatedAt).format('YYYY-MM-DD')}
                </Typography.Text>
                <Flex gap={8} style={{ marginTop: 6 }}>
                  {f.state !== 'retired' && (
                    <Button size="small" onClick={() => open(f)} data-testid={`mystery-form-edit-${f.id}`}>
                      {t('mystery.forms.edit')}
                    </Button>
                  )}
                  {f.state === 'draft' && (
                    <Button
                      size="small"
                      type="primary"
                      loading={publish.isPending}
                      onClick={() => publish.mutate(f.id)}
                      data-testid={`mystery-form-publish-${f.id}`}
                    >
                      {t('mystery.forms.publish')}
                    </Button>
                  )}
                </Flex>
              </Card>
            ))}
          </Flex>
        )}
      </Spin>
      <Drawer
        open={editing !== null}
        onClose={() => setEditing(null)}
        title={editing === 'new' ? t('mystery.forms.new') : editing?.title}
        width={phone ? '100%' : 640}
        forceRender
        extra={
          <Button type="primary" loading={save.isPending} onClick={() => form.submit()} data-testid="mystery-form-save">
            {editing !== 'new' && editing?.state === 'published'
              ? t('mystery.forms.saveVersion')
              : t('mystery.forms.save')}
          </Button>
        }
      >
        <Form form={form} layout="vertical" onFinish={(v) => save.mutate(v)}>
          <Editor isNew={editing === 'new'} />
        </Form>
      </Drawer>
    </Page>
  );
}
