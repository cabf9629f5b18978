// Customer codes follow a configurable scheme [004], e.g. "{branch}-{area}-{kind}{seq:6}".

export const DEFAULT_CODE_SCHEME = '{branch}{kind}{seq:6}';

export const KIND_LETTER: Record<string, string> = {
  individual: 'P',
  organisation: 'O',
  residential: 'R',
  commercial: 'C',
};

export interface CodeParts {
  branch: string;
  area: string;
  station: string;
  kind: string;
}

const TOKEN = /\{(branch|area|station|kind|seq)(?::(\d{1,2}))?\}/g;

export function validateScheme(scheme: string): string | null {
  if (!scheme.includes('{seq')) return 'the scheme must contain {seq} or {seq:N}';
  const stripped = scheme.replace(TOKEN, '');
  if (/[{}]/.test(stripped)) return 'unknown placeholder; use {branch} {area} {station} {kind} {seq:N}';
  if (scheme.length > 60) return 'the scheme is too long';
  return null;
}

/** The part before the sequence number: codes sharing it share one counter. */
export function codePrefix(scheme: string, parts: CodeParts): string {
  const i = scheme.indexOf('{seq');
  return fill(scheme.slice(0, i), parts, 0) + '|' + fill(scheme.slice(scheme.indexOf('}', i) + 1), parts, 0);
}

export function formatCode(scheme: string, parts: CodeParts, seq: number): string {
  return fill(scheme, parts, seq);
}

function fill(template: string, parts: CodeParts, seq: number): string {
  return template.replace(TOKEN, (_m, name: string, width?: string) => {
    if (name === 'seq') return String(seq).padStart(Number(width ?? 1), '0');
    if (name === 'kind') return KIND_LETTER[parts.kind] ?? 'X';
    return parts[name as 'branch' | 'area' | 'station'] || '';
  });
}
