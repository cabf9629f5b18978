// Every action and record type the server writes to the audit log has a name in each catalog, so the
// audit page never shows a raw code. The server's source is walked for recordAudit/recordRead calls;
// a call whose action or entity is not a literal must be listed in DYNAMIC with its possible values.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { RATING_ACTIONS } from '../../src/domain/rating-workflow.js';
import { PLAN_ACTIONS } from '../../src/domain/development-plan.js';
import { zhCN } from '../../src/web/i18n/zh-CN.js';
import { enUS } from '../../src/web/i18n/en-US.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DIRS = ['src/server', 'src/cli'];

// Values of non-literal expressions, by file and expression text.
const DYNAMIC: Record<string, readonly string[]> = {
  // AccessService.decide(…, decision: 'approve' | 'reject')
  'src/server/modules/access/access.service.ts:`access_${decision}`': ['access_approve', 'access_reject'],
  'src/server/modules/ratings/ratings.service.ts:action': RATING_ACTIONS,
  // ProspectsService.progress: the progress step (a note is audited as follow_up).
  'src/server/modules/prospects/prospects.service.ts:body.action': ['contact', 'offer', 'lose'],
  'src/server/modules/prospects/prospects.service.ts:`plan_${action}`': PLAN_ACTIONS.map((a) => `plan_${a}`),
  // OwnershipService's owner changes by hand, in bulk and from the pool (the nightly return is a literal).
  'src/server/modules/ownership/ownership.service.ts:action': ['change_owner', 'reassign_owner', 'pool_claim'],
  // recordRead passes its caller's entity on; the callers are walked themselves.
  'src/server/modules/audit/audit.service.ts:entity': [],
};

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return sourceFiles(rel);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts') ? [rel] : [];
  });
}

interface Found {
  actions: Map<string, string>;
  entities: Map<string, string>;
  calls: number;
  unknown: string[];
}

function walk(): Found {
  const found: Found = { actions: new Map(), entities: new Map(), calls: 0, unknown: [] };
  for (const file of DIRS.flatMap(sourceFiles)) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    if (!/record(Audit|Read)\(/.test(text)) continue;
    const src = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
    const where = (n: ts.Node) => `${file}:${src.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
    const values = (e: ts.Expression): string[] | null => {
      if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return [e.text];
      if (ts.isParenthesizedExpression(e)) return values(e.expression);
      if (ts.isConditionalExpression(e)) {
        const [a, b] = [values(e.whenTrue), values(e.whenFalse)];
        return a && b ? [...a, ...b] : null;
      }
      const known = DYNAMIC[`${file}:${e.getText(src)}`];
      return known ? [...known] : null;
    };
    // An entry built beforehand (`const entry = { … } as const`) is read from its declaration in the file.
    const objectOf = (e: ts.Expression): ts.ObjectLiteralExpression | null => {
      if (ts.isObjectLiteralExpression(e)) return e;
      const wrapped = ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e);
      if (wrapped) return objectOf(e.expression);
      if (!ts.isIdentifier(e)) return null;
      const decls: ts.VariableDeclaration[] = [];
      const find = (x: ts.Node): void => {
        const named = ts.isVariableDeclaration(x) && ts.isIdentifier(x.name) && x.name.text === e.text;
        if (named && x.initializer) decls.push(x);
        ts.forEachChild(x, find);
      };
      find(src);
      return decls.length === 1 ? objectOf(decls[0]!.initializer!) : null;
    };
    const note = (into: Map<string, string>, e: ts.Expression | undefined, at: ts.Node, what: string) => {
      const v = e ? values(e) : null;
      if (v === null) found.unknown.push(`${where(at)} ${what}: ${e ? e.getText(src) : '(missing)'}`);
      else for (const x of v) into.set(x, where(at));
    };
    const visit = (n: ts.Node): void => {
      if (ts.isCallExpression(n) && ts.isIdentifier(n.expression)) {
        const name = n.expression.text;
        if (name === 'recordRead') {
          found.calls++;
          found.actions.set('read', where(n));
          note(found.entities, n.arguments[2], n, 'entity');
        } else if (name === 'recordAudit') {
          found.calls++;
          const entry = n.arguments[2] && objectOf(n.arguments[2]);
          if (!entry) {
            found.unknown.push(`${where(n)} entry is not an object literal`);
          } else {
            const prop = (key: string): ts.Expression | undefined => {
              for (const p of entry.properties) {
                if (ts.isPropertyAssignment(p) && p.name.getText(src) === key) return p.initializer;
                if (ts.isShorthandPropertyAssignment(p) && p.name.text === key) return p.name;
              }
              return undefined;
            };
            note(found.actions, prop('action'), n, 'action');
            note(found.entities, prop('entity'), n, 'entity');
          }
        }
      }
      ts.forEachChild(n, visit);
    };
    visit(src);
  }
  return found;
}

describe('audit catalog', () => {
  const found = walk();

  it('finds the audit calls of the server and the CLI, each with a known action and entity', () => {
    expect(found.unknown).toEqual([]);
    expect(found.calls).toBeGreaterThan(40);
    // Codes the user test saw raw on the audit page.
    const [actions, entities] = [[...found.actions.keys()], [...found.entities.keys()]];
    for (const a of ['import_done', 'upload', 'export', 'access_approve', 'finalize']) expect(actions).toContain(a);
    for (const e of ['customer_ratings', 'customer_transactions', 'import', 'customer']) expect(entities).toContain(e);
  });

  for (const [locale, catalog] of [
    ['zh-CN', zhCN],
    ['en-US', enUS],
  ] as const) {
    it(`names every recorded action and entity in ${locale}`, () => {
      const actions = catalog.audit.actions as Record<string, string>;
      const entities = catalog.audit.entities as Record<string, string>;
      const missing = (seen: Map<string, string>, named: Record<string, string>) =>
        [...seen].filter(([code]) => !named[code]).map(([code, at]) => `${code} (${at})`);
      const [missingActions, missingEntities] = [missing(found.actions, actions), missing(found.entities, entities)];
      expect(missingActions).toEqual([]);
      expect(missingEntities).toEqual([]);
    });
  }

  it('shows Chinese for Chinese readers: no zh-CN name is the code itself', () => {
    const names = [...Object.entries(zhCN.audit.actions), ...Object.entries(zhCN.audit.entities)];
    const same = names.filter(([code, name]) => code === name || /^[a-z_]+$/.test(name));
    expect(same).toEqual([]);
  });
});
