// Customer value: the spend model fitted per branch on the nights its churn models are fitted, and each
// customer's P(alive), expected visits, expected spend per visit and 12-month value worked out when asked,
// from his cadence and takings as of today and the branch's newest fits.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { engineOf, withoutJit } from '../../db/dialect.js';
import { readerOf } from '../../db/replica.js';
import { AppError } from '../../errors.js';
import { dayIn } from '../../jobs/job-runner.js';
import { MAX_CUSTOMERS_TO_FIT, evenSample, rfmOfCadence } from '../../../domain/anomaly-rules.js';
import { SeriesNotConvergedError } from '../../../domain/churn-models/special.js';
import type { GammaGammaParams } from '../../../domain/churn-models/gamma-gamma.js';
import {
  customerValue,
  fitSpend,
  modelGroupOf,
  type CustomerValue,
  type VisitModel,
} from '../../../domain/customer-value.js';
import { alertsQueries } from '../alerts/alerts.queries.js';
import { SPEND_MODEL, valueQueries as q, type FitRow, type ValueCustomerRow } from './value.queries.js';

/** Why a customer has no figures: he never bought before today, or his branch has no churn model yet. */
export type ValueMissing = 'no_history' | 'no_model';

export interface CustomerValueAnswer extends Partial<CustomerValue> {
  customerId: number;
  /** The day the figures are worked out for (the company's today). */
  asOf: string;
  missing: ValueMissing | null;
  model: VisitModel['model'] | null;
  /** Night of the churn fit used, and of the spend fit (null: the branch has none yet). */
  modelFittedFor: string | null;
  spendFittedFor: string | null;
  /** Visit days of known amount his spend is judged on. */
  spendVisits: number;
}

interface BranchModels {
  visits: (VisitModel & { period: string }) | null;
  spend: (GammaGammaParams & { period: string }) | null;
}

export interface SpendFitResult {
  fitted: number;
  /** Branches fitted that night whose customers with takings were too few for a spend model. */
  tooFew: number;
}

/** The newest chosen churn fit and the newest spend fit among a unit's fit rows (newest first). */
function branchModels(rows: readonly FitRow[]): BranchModels {
  let visits: BranchModels['visits'] = null;
  let spend: BranchModels['spend'] = null;
  for (const r of rows) {
    const { chosen, converged: _c, fittedOn: _f, ...params } = JSON.parse(r.params) as Record<string, unknown>;
    if (r.model === SPEND_MODEL) spend ??= { ...(params as unknown as GammaGammaParams), period: r.period };
    else if (chosen === true && (r.model === 'bgnbd' || r.model === 'pareto_nbd')) {
      visits ??= { model: r.model, params: params as never, period: r.period } as VisitModel & { period: string };
    }
  }
  return { visits, spend };
}

export class CustomerValueService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private get engine() {
    return engineOf(this.db);
  }

  /**
   * Fit the spend model of every branch whose churn models were fitted for `period` (the nightly run's
   * day), on an even sample of its live customers' takings up to that day. Run after the model rule in
   * the same job; a branch already holding a spend fit for the period is left as it is.
   */
  async fitSpendModels(period: string): Promise<SpendFitResult> {
    const result: SpendFitResult = { fitted: 0, tooFew: 0 };
    const rows = await q.fitsOfPeriod(this.db, period);
    const done = new Set(rows.filter((r) => r.model === SPEND_MODEL).map((r) => r.orgUnitId));
    const fitted = [...new Set(rows.filter((r) => r.model !== SPEND_MODEL).map((r) => r.orgUnitId))].filter(
      (g) => !done.has(g),
    );
    if (fitted.length === 0) return result;
    const units = await q.orgUnits(this.db);
    const branches = new Set(units.filter((u) => u.kindCode === 'branch').map((u) => u.id));
    for (const group of fitted.sort((a, b) => a - b)) {
      const unitIds = units.filter((u) => modelGroupOf(u.path, (id) => branches.has(id)) === group).map((u) => u.id);
      // The sample's takings are read where the nightly run reads (the read replica, if any).
      const read = readerOf(this.db);
      const members = await alertsQueries.memberIds(read, this.engine, unitIds);
      const ids = evenSample(members, MAX_CUSTOMERS_TO_FIT);
      const spend = [...(await withoutJit(read, (db) => q.spend(db, this.engine, ids, period))).values()];
      const fit = fitSpend(spend);
      if (!fit) {
        result.tooFew++;
        continue;
      }
      await alertsQueries.saveFit(this.db, {
        orgUnitId: group,
        model: SPEND_MODEL,
        period,
        params: JSON.stringify({ ...fit.params, converged: fit.converged, fittedOn: spend.length }),
        logLikelihood: fit.logLikelihood,
        customers: members.length,
        fittedAt: this.now().toISOString(),
      });
      result.fitted++;
    }
    return result;
  }

  /** The company's today: a customer's history runs up to it. */
  private async today(): Promise<string> {
    return dayIn(this.now(), await q.companyTimeZone(this.db));
  }

  /** P(alive), expected visits, spend per visit and 12-month value of one customer (scope is the route's). */
  async customerValue(customerId: number): Promise<CustomerValueAnswer> {
    const answer = (await this.values([customerId])).get(customerId);
    if (!answer) throw new AppError('NOT_FOUND', `customer ${customerId} not found`);
    return answer;
  }

  /** The same for several customers at once (a ranked list); customers not on file are left out. */
  async values(ids: readonly number[]): Promise<Map<number, CustomerValueAnswer>> {
    const out = new Map<number, CustomerValueAnswer>();
    const customers = await q.customers(this.db, this.engine, ids);
    if (customers.length === 0) return out;
    const [today, units, spend] = await Promise.all([
      this.today(),
      q.orgUnits(this.db),
      q.spend(
        this.db,
        this.engine,
        customers.map((c) => c.id),
      ),
    ]);
    const branches = new Set(units.filter((u) => u.kindCode === 'branch').map((u) => u.id));
    const models = new Map<number, BranchModels>();
    for (const c of customers) {
      const group = modelGroupOf(c.path, (id) => branches.has(id));
      let m = models.get(group);
      if (!m) models.set(group, (m = branchModels(await q.newestFits(this.db, group))));
      out.set(c.id, this.valueOf(c, m, spend.get(c.id) ?? { visitDays: 0, amountFen: 0 }, today));
    }
    return out;
  }

  private valueOf(
    c: ValueCustomerRow,
    m: BranchModels,
    spend: { visitDays: number; amountFen: number },
    today: string,
  ): CustomerValueAnswer {
    const base = {
      customerId: c.id,
      asOf: today,
      model: m.visits?.model ?? null,
      modelFittedFor: m.visits?.period ?? null,
      spendFittedFor: m.spend?.period ?? null,
      spendVisits: spend.visitDays,
    };
    const history = rfmOfCadence(
      { visitCount: c.visitCount, firstVisitDay: c.firstVisitDay, lastVisitDay: c.lastVisitDay },
      today,
    );
    if (!history) return { ...base, missing: 'no_history' };
    if (!m.visits) return { ...base, missing: 'no_model' };
    try {
      return { ...base, missing: null, ...customerValue(m.visits, m.spend, history, spend) };
    } catch (err) {
      // A series past its budget has no figure to give; the branch's model is as good as missing.
      if (err instanceof SeriesNotConvergedError) return { ...base, missing: 'no_model' };
      throw err;
    }
  }
}
