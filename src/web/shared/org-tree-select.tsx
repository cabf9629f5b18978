import { useMemo } from 'react';
import { TreeSelect, type TreeSelectProps } from 'antd';
import { orgTreeSelectData } from './org-tree.js';
import { useOrgUnits } from './queries.js';

/** Pick an org unit of the user's subtree. */
export function OrgTreeSelect(props: Omit<TreeSelectProps<number>, 'treeData'>) {
  const units = useOrgUnits();
  const treeData = useMemo(() => orgTreeSelectData(units.data ?? []), [units.data]);
  return (
    <TreeSelect<number>
      treeData={treeData}
      treeDefaultExpandAll
      showSearch={{ treeNodeFilterProp: 'title' }}
      loading={units.isPending}
      popupMatchSelectWidth={false}
      {...props}
    />
  );
}
