// The "three-step" method: visit 1 note the plate and model only; visit 2 introduce yourself and ask
// name and organisation (primary archive); visit 3 ask for contact details (full archive).

export type ProfileStep = 1 | 2 | 3;

export interface ProfileFacts {
  kind: 'individual' | 'organisation' | 'residential' | 'commercial';
  hasVehicle: boolean;
  hasVehicleModel: boolean;
  name: string | null;
  surname: string | null;
  organisation: string | null;
  phoneCount: number;
  products: string | null;
  routes: string | null;
}

export type NextQuestion =
  'ask_plate_model' | 'ask_name' | 'ask_organisation' | 'ask_phone' | 'ask_products' | 'ask_routes' | null;

export interface Profile {
  /** The step reached: 1 plate only, 2 primary archive, 3 full archive. */
  step: ProfileStep;
  /** What the attendant should ask next time, or null when the archive is complete. */
  next: NextQuestion;
}

export function profileOf(f: ProfileFacts): Profile {
  const hasName = Boolean(f.name || f.surname);
  const isOrg = f.kind === 'organisation' || f.kind === 'commercial';
  const primary = hasName && (!isOrg || Boolean(f.organisation || f.name));
  if (!primary) {
    if (f.kind === 'individual' && !f.hasVehicle) return { step: 1, next: 'ask_plate_model' };
    return { step: 1, next: hasName ? 'ask_organisation' : 'ask_name' };
  }
  if (f.phoneCount === 0) return { step: 2, next: 'ask_phone' };
  if (!f.products) return { step: 3, next: 'ask_products' };
  if (!f.routes && f.hasVehicle) return { step: 3, next: 'ask_routes' };
  return { step: 3, next: null };
}

/** "赵师傅": how an attendant greets a driver he knows by surname. */
export function greetingOf(surname: string | null, name: string | null, gender: string | null): string | null {
  const s = surname || (name ? surnameFromName(name) : null);
  if (!s) return null;
  if (gender === 'female') return `${s}女士`;
  return `${s}师傅`;
}

// Two-character compound surnames that would otherwise be cut to one character.
const COMPOUND = [
  '欧阳',
  '司马',
  '诸葛',
  '上官',
  '东方',
  '皇甫',
  '尉迟',
  '公孙',
  '慕容',
  '令狐',
  '夏侯',
  '长孙',
  '宇文',
  '司徒',
  '端木',
  '澹台',
];

export function surnameFromName(name: string): string | null {
  const trimmed = name.trim();
  if (!/^[\u4e00-\u9fff]{2,4}$/.test(trimmed)) return null;
  const compound = COMPOUND.find((c) => trimmed.startsWith(c));
  if (compound && trimmed.length > 2) return compound;
  return trimmed.slice(0, 1);
}
