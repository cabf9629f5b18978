import { describe, expect, it } from 'vitest';
import {
  IMPORT_FIELDS,
  ownLabels,
  suggestMapping,
  type ImportKind,
} from '../../src/server/modules/imports/parse/mapping.js';
import { CUSTOMER_FIELD_LABELS } from '../../src/domain/customer-labels.js';

describe('import column mapping', () => {
  for (const kind of ['customers', 'cards'] as ImportKind[]) {
    it(`maps every ${kind} field's own label to that field`, () => {
      const labelled = IMPORT_FIELDS[kind].filter((f) => ownLabels(f).length > 0);
      // Fields the archive has a label for; phone2 is the import's own second phone column.
      expect(labelled.length).toBeGreaterThan(kind === 'customers' ? 18 : 6);
      for (const field of labelled) {
        for (const label of ownLabels(field))
          expect(suggestMapping([label], kind), `${label}`).toEqual({ [label]: field });
      }
    });
  }

  it('maps 常跑线路, the label of the routes field, in a whole header row', () => {
    expect(CUSTOMER_FIELD_LABELS['zh-CN'].routes).toBe('常跑线路');
    const m = suggestMapping(['姓名', '电话', '车牌号', '常跑线路', '生日', '其他'], 'customers');
    expect(m).toEqual({ 姓名: 'name', 电话: 'phone', 车牌号: 'plate', 常跑线路: 'routes', 生日: 'birthday' });
    expect(m['其他']).toBeUndefined();
  });
});
