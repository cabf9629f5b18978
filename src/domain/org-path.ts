// Materialised paths ("/1/7/23/") make "is X inside Y's subtree" a prefix test on both engines.

export function childPath(parentPath: string | null, id: number): string {
  return `${parentPath ?? '/'}${id}/`;
}

export function isWithin(path: string, ancestorPath: string): boolean {
  return path.startsWith(ancestorPath);
}

/** Moving a unit under one of its own descendants would make a cycle. */
export function wouldCycle(unitPath: string, newParentPath: string): boolean {
  return newParentPath.startsWith(unitPath);
}

export function depthOf(path: string): number {
  return path.split('/').filter(Boolean).length;
}
