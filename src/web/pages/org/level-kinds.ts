import { currentLocale } from '../../i18n/index.js';
import type { LevelKind } from '../../shared/queries.js';

export function kindName(kinds: readonly LevelKind[] | undefined, code: string): string {
  // While the kinds load, say nothing rather than flash the internal code.
  if (!kinds) return '';
  const kind = kinds.find((k) => k.code === code);
  if (!kind) return code;
  return currentLocale() === 'zh-CN' ? kind.name_zh : kind.name_en;
}

/** The usual kind for a new child: the next level down (HQ → branch → area → station). */
export function childKind(kinds: readonly LevelKind[] | undefined, parentKind: string): string | undefined {
  const sorted = [...(kinds ?? [])].sort((a, b) => a.rank - b.rank);
  const parent = sorted.find((k) => k.code === parentKind);
  return (parent ? sorted.find((k) => k.rank > parent.rank) : undefined)?.code ?? sorted.at(-1)?.code;
}
