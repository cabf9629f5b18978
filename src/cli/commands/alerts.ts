// `forecourt alerts run|backtest`: the alert rules as of a night, and a policy replayed night by
// night over the archive without writing alerts.
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import type { Config } from '../../server/config.js';
import { openDb, type Db } from '../../server/db/connection.js';
import { prepareDatabase } from '../../server/bootstrap.js';
import { AlertsService, type RunResult } from '../../server/modules/alerts/alerts.service.js';
import {
  BacktestService,
  DEFAULT_FOLLOW_UP_DAYS,
  type BacktestReport,
} from '../../server/modules/alerts/backtest.service.js';
import { currentPolicy } from '../../server/modules/policies/policies.service.js';
import { POLICY_LIMITS, limitProblem, type AnomalyPolicy, type NumberLimit } from '../../domain/policies.js';
import type { RuleFigures } from '../../domain/backtest.js';
import { isCalendarDay } from '../../domain/day-arithmetic.js';
import { AppError } from '../../server/errors.js';
import { UsageError } from '../usage-error.js';

export const alertsHelp = `usage: forecourt alerts run [--as-of DATE] [--scope ORG_CODE] [--dry-run] [--json]
       forecourt alerts backtest --from DATE --to DATE [--policy FILE] [--follow-up DAYS] [--scope ORG_CODE] [--json]

run       Runs the churn and anomaly rules as of a night (default: yesterday in the company's time
          zone), as the nightly job does: every rule reads only what was bought up to and including
          DATE. New lapses become alerts (one per lapse and customer), absences the customer has
          ended since are resolved by the purchase that ended them. --dry-run counts and writes
          nothing (no alert, score or fit).

backtest  Replays the rules night by night from --from to --to (at most 92 nights, before today)
          without writing anything, and prints per rule, then per station: alerts raised, customers
          who came back within the follow-up days (false alerts), later, never through the end of
          the data (true alerts), not known yet, and the delay after the expected next visit
          (median, p90). --policy FILE tries an anomaly policy (JSON; fields left out keep the
          values in force) before it is saved.

Options:
  --as-of DATE       the night to judge (run), YYYY-MM-DD
  --from DATE        the first night (backtest)
  --to DATE          the last night (backtest)
  --policy FILE      a candidate anomaly policy, JSON (backtest)
  --follow-up DAYS   a customer back within this many days makes the alert a false one (default ${DEFAULT_FOLLOW_UP_DAYS})
  --scope CODE       only the customers of this org unit's subtree (default: the whole company)
  --dry-run          count only (run)
  --json             print the result as JSON
  -h, --help         this text
`;

function day(value: string | undefined, option: string): string | undefined {
  if (value === undefined) return undefined;
  if (!isCalendarDay(value)) throw new UsageError(`${option} takes a date, YYYY-MM-DD`);
  return value;
}

/** A candidate policy from a file: the policy in force with the file's fields, each within its limits. */
export function candidatePolicy(inForce: AnomalyPolicy, text: string, file: string): AnomalyPolicy {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file} is not JSON: ${(err as Error).message}`);
  }
  // The body itself, or a saved version's { body } as the API returns it.
  const body =
    parsed !== null && typeof parsed === 'object' && 'body' in parsed ? (parsed as { body: unknown }).body : parsed;
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new UsageError(`${file}: expected an object of anomaly policy fields`);
  const out: Record<string, number> = { ...inForce };
  for (const [field, value] of Object.entries(body)) {
    if (!Object.hasOwn(inForce, field))
      throw new UsageError(
        `${file}: ${field} is not a field of the anomaly policy (${Object.keys(inForce).join(', ')})`,
      );
    const limit = (POLICY_LIMITS as Record<string, NumberLimit>)[field]!;
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new UsageError(`${file}: ${field} must be a number`);
    const problem = limitProblem(limit, value);
    if (problem)
      throw new UsageError(
        `${file}: ${field} ${problem === 'integer' ? 'must be a whole number' : problem === 'min' ? `must be at least ${limit.min}` : `must be at most ${limit.max}`}`,
      );
    out[field] = value;
  }
  return out as unknown as AnomalyPolicy;
}

async function scopePathOf(db: Db, code: string | undefined): Promise<string> {
  if (code === undefined) return '/';
  const unit = await db.kysely.selectFrom('org_unit').select('path').where('code', '=', code).executeTakeFirst();
  if (!unit) throw new UsageError(`--scope: no org unit with code ${code}`);
  return unit.path;
}

const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)}%`);
const num = (v: number | null) => (v === null ? '–' : String(v));

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '))
    .join('\n');
}

function figureRows(figures: RuleFigures[], lead: string[] = []): string[][] {
  return figures.map((f) => [
    ...lead,
    f.rule,
    String(f.raised),
    String(f.customers),
    String(f.cameBack),
    String(f.cameBackLater),
    String(f.neverCameBack),
    String(f.undecided),
    pct(f.falseShare),
    num(f.delayDays.median),
    num(f.delayDays.p90),
  ]);
}

/** The report as text: per rule, then per station. */
export function formatReport(r: BacktestReport): string {
  const head = [
    'rule',
    'raised',
    'customers',
    `back ≤${r.followUpDays} d`,
    'later',
    'never',
    'not yet',
    'false',
    'delay p50',
    'p90',
  ];
  const lines = [
    `back-test ${r.from} – ${r.to} (${r.nights} nights) over ${r.scopePath}: ${r.customers} customers, data to ${r.lastDataDay ?? '–'}, ${r.seconds} s`,
    `policy: ${Object.entries(r.policy)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `model: ${r.model.fits} branch fits, ${r.model.scored} scores${r.model.skipped.length ? `; left out: ${r.model.skipped.map((s) => `${s.name} (${s.reason}${s.minimum ? ` < ${s.minimum}` : ''}, ${s.nights} nights)`).join(', ')}` : ''}`,
    '',
    table([head, ...figureRows(r.rules)]),
  ];
  if (r.stations.length) {
    lines.push(
      '',
      'per station:',
      table([
        ['unit', ...head],
        ...r.stations.flatMap((s) =>
          figureRows(
            s.rules.filter((f) => f.raised > 0),
            [s.name],
          ),
        ),
      ]),
    );
  }
  return lines.join('\n');
}

function formatRun(r: RunResult): string {
  const skipped = r.skippedBranches.map(
    (b) => `${b.name} (${b.reason}${b.minimum ? `: ${b.customers} < ${b.minimum}` : b.error ? `: ${b.error}` : ''})`,
  );
  return [
    `alerts as of ${r.period}${r.dryRun ? ' (dry run: nothing written)' : ''}: ${r.seconds} s`,
    `raised: cadence ${r.raised.cadence}, decline ${r.raised.decline}, model ${r.raised.model}; already open ${r.alreadyOpen}, already handled ${r.alreadyClosed}`,
    `resolved: came back ${r.resolved.returned}, volume recovered ${r.resolved.recovered}`,
    `model: ${r.fittedBranches} branches (${r.reusedFits} with a recent fit), ${r.scoredCustomers} customers scored${skipped.length ? `; left out: ${skipped.join(', ')}` : ''}`,
  ].join('\n');
}

export async function runAlerts(argv: string[], config: Config): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'as-of': { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      policy: { type: 'string' },
      'follow-up': { type: 'string' },
      scope: { type: 'string' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(alertsHelp);
    return 0;
  }
  const [sub, ...extra] = positionals;
  if (sub !== 'run' && sub !== 'backtest') throw new UsageError('run or backtest?');
  if (extra.length) throw new UsageError(`unexpected ${extra.join(' ')}`);
  const followUp = values['follow-up'] === undefined ? DEFAULT_FOLLOW_UP_DAYS : Number(values['follow-up']);
  if (!Number.isInteger(followUp) || followUp < 1) throw new UsageError('--follow-up takes a number of days');
  // The run's passes over the archive read from the replica when DATABASE_READ_URL names one.
  const db = openDb({
    url: config.databaseUrl,
    readUrl: config.databaseReadUrl,
    readMaxLagSeconds: config.databaseReadMaxLagSeconds,
  });
  try {
    await prepareDatabase(db);
    const scopePath = await scopePathOf(db, values.scope);
    if (sub === 'run') {
      if (values.from || values.to || values.policy) throw new UsageError('--from, --to and --policy are for backtest');
      const svc = new AlertsService(db.kysely);
      const asOf = day(values['as-of'], '--as-of') ?? (await svc.defaultDay());
      const result = await svc.runRules({ day: asOf, scopePath, dryRun: values['dry-run'] ?? false });
      console.log(values.json ? JSON.stringify(result, null, 2) : formatRun(result));
      return 0;
    }
    const from = day(values.from, '--from');
    const to = day(values.to, '--to');
    if (!from || !to) throw new UsageError('backtest needs --from and --to');
    if (values['as-of'] || values['dry-run']) throw new UsageError('--as-of and --dry-run are for run');
    const inForce = (await currentPolicy(db.kysely, 'anomaly')).body;
    const policy =
      values.policy === undefined
        ? inForce
        : candidatePolicy(inForce, fs.readFileSync(values.policy, 'utf8'), values.policy);
    const report = await new BacktestService(db.kysely)
      .run({ from, to, scopePath, policy, followUpDays: followUp })
      .catch((err: unknown) => {
        // The nights out of bounds are a mistake in the call.
        if (err instanceof AppError && err.code === 'VALIDATION_FAILED') throw new UsageError(err.message);
        throw err;
      });
    console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
    return 0;
  } finally {
    await db.close();
  }
}
