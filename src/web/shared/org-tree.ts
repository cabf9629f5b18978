// The org API returns a flat list with parentId; the tree is built here, on the client.
import type { OrgUnit } from './queries.js';

export interface OrgNode {
  unit: OrgUnit;
  children: OrgNode[];
}

/** Roots are the units whose parent is not in the list (the top of the user's subtree). */
export function buildOrgTree(units: readonly OrgUnit[]): OrgNode[] {
  const nodes = new Map<number, OrgNode>();
  for (const unit of units) nodes.set(unit.id, { unit, children: [] });
  const roots: OrgNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.unit.parentId === null ? undefined : nodes.get(node.unit.parentId);
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  const sort = (list: OrgNode[]) => {
    list.sort((a, b) => a.unit.code.localeCompare(b.unit.code));
    for (const n of list) sort(n.children);
  };
  sort(roots);
  return roots;
}

/** Ids of a unit and everything under it (a unit cannot move into its own subtree). */
export function subtreeIds(units: readonly OrgUnit[], rootId: number): Set<number> {
  const root = units.find((u) => u.id === rootId);
  if (!root) return new Set();
  return new Set(units.filter((u) => u.path.startsWith(root.path)).map((u) => u.id));
}

export interface OrgTreeSelectNode {
  value: number;
  title: string;
  disabled?: boolean;
  children: OrgTreeSelectNode[];
}

/** Tree data for antd TreeSelect; `disabled` ids stay visible but cannot be picked. */
export function orgTreeSelectData(
  units: readonly OrgUnit[],
  disabled: ReadonlySet<number> = new Set(),
): OrgTreeSelectNode[] {
  const map = (nodes: OrgNode[]): OrgTreeSelectNode[] =>
    nodes.map((n) => ({
      value: n.unit.id,
      title: n.unit.name,
      ...(disabled.has(n.unit.id) && { disabled: true }),
      children: map(n.children),
    }));
  return map(buildOrgTree(units));
}
