// Fuel-card numbers as attendants type them and card systems print them.

export type CardParseResult = { ok: true; cardNo: string } | { ok: false; reason: string };

/** Drop spaces and dashes, upper-case; 6–32 letters or digits remain. */
export function parseCardNo(input: string): CardParseResult {
  const cardNo = input.replace(/[\s-]/g, '').toUpperCase();
  if (!/^[0-9A-Z]{6,32}$/.test(cardNo))
    return { ok: false, reason: `card number ${JSON.stringify(input)} must be 6–32 letters or digits` };
  return { ok: true, cardNo };
}
