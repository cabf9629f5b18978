import { describe, expect, it } from 'vitest';
import { greetingOf, profileOf, surnameFromName, type ProfileFacts } from './customer-profile.js';

const base: ProfileFacts = {
  kind: 'individual',
  hasVehicle: true,
  hasVehicleModel: true,
  name: null,
  surname: null,
  organisation: null,
  phoneCount: 0,
  products: null,
  routes: null,
};

describe('three-step profile', () => {
  it('step 1: plate and model only, ask the name next', () => {
    expect(profileOf(base)).toEqual({ step: 1, next: 'ask_name' });
  });
  it('step 2: name known, ask for a phone next', () => {
    expect(profileOf({ ...base, surname: '赵' })).toEqual({ step: 2, next: 'ask_phone' });
  });
  it('step 3: contact details known; then products and routes', () => {
    expect(profileOf({ ...base, name: '赵建国', phoneCount: 1 })).toEqual({ step: 3, next: 'ask_products' });
    expect(profileOf({ ...base, name: '赵建国', phoneCount: 1, products: '0#柴油' })).toEqual({
      step: 3,
      next: 'ask_routes',
    });
    expect(profileOf({ ...base, name: '赵建国', phoneCount: 1, products: '0#柴油', routes: '石家庄—天津' })).toEqual({
      step: 3,
      next: null,
    });
  });
  it('an individual without a vehicle is asked for the plate first', () => {
    expect(profileOf({ ...base, hasVehicle: false })).toEqual({ step: 1, next: 'ask_plate_model' });
  });
});

describe('greeting', () => {
  it('greets a driver by surname', () => {
    expect(greetingOf(null, '赵建国', null)).toBe('赵师傅');
    expect(greetingOf('王', null, 'female')).toBe('王女士');
    expect(greetingOf(null, '欧阳明', null)).toBe('欧阳师傅');
    expect(greetingOf(null, 'Acme Ltd', null)).toBeNull();
  });
  it('does not mistake a company name for a surname', () => {
    expect(surnameFromName('顺达物流有限公司')).toBeNull();
  });
});
