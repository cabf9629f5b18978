import { describe, expect, it } from 'vitest';
import { changeRows, type ChangeWords } from './changes.js';

const FIELDS: Record<string, string> = { notes: '备注', kind: '客户类型', vehicles: '车辆', lookAfter: '需关照' };
const words: ChangeWords = {
  field: (entity, key) => (entity === 'customer' ? (FIELDS[key] ?? null) : null),
  value: (_e, key, code) => {
    if (key === 'kind') return code === 'individual' ? '个人' : null;
    return key === 'lookAfter' ? (code === '1' ? '是' : '否') : null;
  },
  yes: '是',
  no: '否',
  separator: '、',
  aside: (value, detail) => `${value}（${detail}）`,
};

describe('audit changes', () => {
  it('lists only what an edit changed, by field name, snake_case and camelCase alike', () => {
    const plate = '冀A12345';
    const stored = { id: 7, kind: 'individual', notes: '旧', look_after: 0, version: 3 };
    const before = JSON.stringify({ ...stored, vehicles: [{ plate, model: null }] });
    const after = JSON.stringify({ notes: '新', lookAfter: true, version: 3, vehicles: [{ plate, model: '解放J6' }] });
    expect(changeRows('customer', before, after, words)).toEqual([
      { key: 'notes', label: '备注', before: '旧', after: '新' },
      { key: 'lookAfter', label: '需关照', before: '否', after: '是' },
      { key: 'vehicles', label: '车辆', before: '冀A12345', after: '冀A12345（解放J6）' },
    ]);
  });

  it('lists every field of a creation with coded values named, and leaves unknown keys raw', () => {
    const created = JSON.stringify({ kind: 'individual', code: 'B1P000001', confirmDuplicate: false });
    const rows = changeRows('customer', null, created, words);
    expect(rows).toEqual([
      { key: 'kind', label: '客户类型', before: null, after: '个人' },
      { key: 'code', label: null, before: null, after: 'B1P000001' },
      { key: 'confirmDuplicate', label: null, before: null, after: '否' },
    ]);
  });

  it('gives up on snapshots that are not records, so the page shows them as they are', () => {
    const [before, after] = [JSON.stringify('{branch}{seq:6}'), JSON.stringify('{station}{seq:5}')];
    expect(changeRows('setting', before, after, words)).toBeNull();
    expect(changeRows('user', null, null, words)).toEqual([]);
  });
});
