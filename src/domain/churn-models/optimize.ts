// Derivative-free minimisation (Nelder–Mead) with restarts and multiple starting points.

export type Objective = (x: readonly number[]) => number;

export interface NelderMeadOptions {
  /** Edge length of the initial simplex, one value for all coordinates or one per coordinate. */
  initialStep?: number | readonly number[];
  /** Stop when the simplex's function values agree within fAbsTol + fRelTol·|f_best|… */
  fAbsTol?: number;
  fRelTol?: number;
  /** …and its vertices agree within xTol in every coordinate. */
  xTol?: number;
  maxEvaluations?: number;
  /**
   * Give up (not converged) when the best value has improved by less than stallFTol over the last
   * stallEvaluations evaluations: the simplex is crawling along a ridge towards a boundary (a
   * degenerate optimum, e.g. a parameter → ∞), where every further step gains nothing measurable.
   */
  stallEvaluations?: number;
  stallFTol?: number;
  /** Dimension-dependent coefficients (Gao & Han 2012); standard ones lose efficiency beyond n ≈ 3. */
  adaptive?: boolean;
}

export interface MinimizeResult {
  x: number[];
  fx: number;
  evaluations: number;
  converged: boolean;
}

interface Vertex {
  x: number[];
  f: number;
}

// NaN or ±Infinity means "infeasible": ranking it worst keeps the simplex inside the valid region.
function safeEval(f: Objective, x: readonly number[]): number {
  const v = f(x);
  return Number.isFinite(v) ? v : Infinity;
}

function combine(base: readonly number[], towards: readonly number[], t: number): number[] {
  // base + t·(towards − base)
  return base.map((b, i) => b + t * ((towards[i] ?? b) - b));
}

export function nelderMead(f: Objective, x0: readonly number[], options: NelderMeadOptions = {}): MinimizeResult {
  const n = x0.length;
  if (n === 0) throw new RangeError('nelderMead: x0 must not be empty');
  const fAbsTol = options.fAbsTol ?? 1e-10;
  const fRelTol = options.fRelTol ?? 1e-12;
  const xTol = options.xTol ?? 1e-8;
  const maxEvaluations = options.maxEvaluations ?? 20_000;
  const stallEvaluations = options.stallEvaluations ?? 500;
  const stallFTol = options.stallFTol ?? 1e-6;
  const adaptive = options.adaptive ?? true;
  const reflect = 1;
  const expand = adaptive ? 1 + 2 / n : 2;
  const contract = adaptive ? 0.75 - 1 / (2 * n) : 0.5;
  const shrink = adaptive ? 1 - 1 / n : 0.5;
  const steps = x0.map((_, i) => {
    const s = options.initialStep;
    return typeof s === 'number' ? s : (s?.[i] ?? 0.5);
  });

  let evaluations = 0;
  const evaluate = (x: number[]): Vertex => {
    evaluations++;
    return { x, f: safeEval(f, x) };
  };

  const simplex: Vertex[] = [evaluate([...x0])];
  for (let i = 0; i < n; i++) {
    const x = [...x0];
    x[i] = (x[i] ?? 0) + (steps[i] ?? 0.5);
    simplex.push(evaluate(x));
  }

  let converged = false;
  let stallF = Infinity;
  let stallSince = 0;
  for (;;) {
    simplex.sort((u, v) => u.f - v.f);
    const best = simplex[0] as Vertex;
    if (best.f < stallF - stallFTol) {
      stallF = best.f;
      stallSince = evaluations;
    } else if (evaluations - stallSince >= stallEvaluations) break;
    const worst = simplex[n] as Vertex;
    const secondWorst = simplex[n - 1] as Vertex;

    let fSpread = 0;
    let xSpread = 0;
    for (let k = 1; k <= n; k++) {
      const v = simplex[k] as Vertex;
      fSpread = Math.max(fSpread, Math.abs(v.f - best.f));
      for (let i = 0; i < n; i++) xSpread = Math.max(xSpread, Math.abs((v.x[i] ?? 0) - (best.x[i] ?? 0)));
    }
    if (Number.isFinite(best.f) && fSpread <= fAbsTol + fRelTol * Math.abs(best.f) && xSpread <= xTol) {
      converged = true;
      break;
    }
    if (evaluations >= maxEvaluations) break;

    const centroid = new Array<number>(n).fill(0);
    for (let k = 0; k < n; k++) {
      const v = simplex[k] as Vertex;
      for (let i = 0; i < n; i++) centroid[i] = (centroid[i] ?? 0) + (v.x[i] ?? 0) / n;
    }

    const reflected = evaluate(combine(centroid, worst.x, -reflect));
    if (reflected.f < best.f) {
      const expanded = evaluate(combine(centroid, worst.x, -reflect * expand));
      simplex[n] = expanded.f < reflected.f ? expanded : reflected;
      continue;
    }
    if (reflected.f < secondWorst.f) {
      simplex[n] = reflected;
      continue;
    }
    if (reflected.f < worst.f) {
      const outside = evaluate(combine(centroid, worst.x, -reflect * contract));
      if (outside.f <= reflected.f) {
        simplex[n] = outside;
        continue;
      }
    } else {
      const inside = evaluate(combine(centroid, worst.x, contract));
      if (inside.f < worst.f) {
        simplex[n] = inside;
        continue;
      }
    }
    for (let k = 1; k <= n; k++) {
      simplex[k] = evaluate(combine(best.x, (simplex[k] as Vertex).x, shrink));
    }
  }

  const best = simplex[0] as Vertex;
  return { x: best.x, fx: best.f, evaluations, converged };
}

export interface MultiStartOptions extends NelderMeadOptions {
  /** Looser tolerances for screening the starting points; only the best one is then polished. */
  screenFAbsTol?: number;
  screenXTol?: number;
  /** Restart from the best point until a restart improves f by less than this. */
  restartTol?: number;
  maxRestarts?: number;
  /** Simplex size used on restarts (smaller than the first one: we are already near a minimum). */
  restartStep?: number;
}

/**
 * Minimise f from several starting points: each is run to a loose tolerance, then the best is
 * polished to the full tolerance and restarted from its own optimum (a fresh simplex
 * un-collapses a degenerate one) until the value stops improving.
 */
export function minimizeMultiStart(
  f: Objective,
  starts: readonly (readonly number[])[],
  options: MultiStartOptions = {},
): MinimizeResult {
  if (starts.length === 0) throw new RangeError('minimizeMultiStart: no starting point');
  const restartTol = options.restartTol ?? 1e-9;
  const maxRestarts = options.maxRestarts ?? 10;
  const restartStep = options.restartStep ?? 0.05;
  const screening: NelderMeadOptions = {
    ...options,
    fAbsTol: options.screenFAbsTol ?? 1e-6,
    xTol: options.screenXTol ?? 1e-4,
  };
  let evaluations = 0;

  let best: MinimizeResult | undefined;
  for (const start of starts) {
    const result = nelderMead(f, start, screening);
    evaluations += result.evaluations;
    if (best === undefined || result.fx < best.fx) best = result;
  }

  let current = nelderMead(f, (best as MinimizeResult).x, { ...options, initialStep: restartStep });
  evaluations += current.evaluations;
  for (let k = 0; k < maxRestarts; k++) {
    const next = nelderMead(f, current.x, { ...options, initialStep: restartStep });
    evaluations += next.evaluations;
    const improvement = current.fx - next.fx;
    if (next.fx <= current.fx) current = next;
    if (!(improvement > restartTol)) break;
  }
  return { ...current, evaluations };
}

/**
 * Maximum likelihood over strictly positive parameters: optimise their logarithms (so the search
 * is unconstrained) from each start, and map the best point back to named parameters.
 */
export function fitPositive<K extends string>(
  keys: readonly K[],
  negativeLogLikelihood: Objective,
  starts: readonly Record<K, number>[],
  options: MultiStartOptions,
): { params: Record<K, number>; logLikelihood: number; evaluations: number; converged: boolean } {
  const result = minimizeMultiStart(
    negativeLogLikelihood,
    starts.map((p) => keys.map((k) => Math.log(p[k]))),
    options,
  );
  const params = Object.fromEntries(keys.map((k, i) => [k, Math.exp(result.x[i] ?? NaN)])) as Record<K, number>;
  return { params, logLikelihood: -result.fx, evaluations: result.evaluations, converged: result.converged };
}
