/**
 * Comparisons that say how sure they are. Two sets of samples of one figure (tok/s of two runs,
 * two configurations) are compared with Welch's t-test: the difference of their means, its 95 %
 * confidence interval from Student's t distribution with the Welch–Satterthwaite degrees of
 * freedom (no equal-variance assumption), and the two-sided p-value. The sentence a report prints
 * is "A is faster than B by X % (95 % CI lo … hi %)" only where that interval excludes zero, and
 * "inconclusive" otherwise — never a bare ratio of means.
 *
 * The t distribution comes from the regularized incomplete beta function (a continued fraction,
 * with a Lanczos log-gamma), its quantiles by bisection: plain code, exact to ~1e-10, checked
 * against published t tables.
 *
 * @example
 * ```ts
 * import { compareSamples, describeComparison } from "./compare.ts";
 * const fast = [101, 99, 100, 102, 98], slow = [80, 82, 79, 81, 78];
 * const c = compareSamples(fast, slow, true);
 * console.log(describeComparison("2 threads", "1 thread", c, "faster", "slower"));
 * // 2 threads is faster than 1 thread by 25.0 % (95 % CI 22.1 % … 27.9 %)
 * ```
 * @module
 */

/** ln Γ(x), Lanczos' approximation (g = 7, 9 terms). */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0]!;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The continued fraction of the incomplete beta function (modified Lentz). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    for (
      const aa of [
        (m * (b - m) * x) / ((a - 1 + m2) * (a + m2)),
        -((a + m) * (a + b + m) * x) / ((a + m2) * (a + 1 + m2)),
      ]
    ) {
      d = 1 + aa * d;
      if (Math.abs(d) < tiny) d = tiny;
      c = 1 + aa / c;
      if (Math.abs(c) < tiny) c = tiny;
      d = 1 / d;
      h *= d * c;
    }
    if (Math.abs(d * c - 1) < 1e-15) break;
  }
  return h;
}

/** The regularized incomplete beta function I_x(a, b). */
function incompleteBeta(a: number, b: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(
    logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x),
  );
  return x < (a + 1) / (a + b + 2)
    ? (front * betaFraction(a, b, x)) / a
    : 1 - (front * betaFraction(b, a, 1 - x)) / b;
}

/** P(|T| ≥ |t|) for Student's t with `df` degrees of freedom (a two-sided p-value). */
export function tTwoSided(t: number, df: number): number {
  return incompleteBeta(df / 2, 0.5, df / (df + t * t));
}

/** The t with P(T ≤ t) = `q` (0.5 < q < 1) for Student's t with `df` degrees of freedom. */
export function tQuantile(q: number, df: number): number {
  const tail = 2 * (1 - q); // the two-sided p-value of the answer
  let [low, high] = [0, 1];
  while (tTwoSided(high, df) > tail) high *= 2;
  for (let i = 0; i < 200 && high - low > 1e-12 * high; i++) {
    const middle = (low + high) / 2;
    if (tTwoSided(middle, df) > tail) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}

/**
 * The `level` (0.95) confidence interval of the mean of `samples` (Student's t with n − 1
 * degrees of freedom), or null with fewer than two samples.
 */
export function meanInterval(
  samples: readonly number[],
  level = 0.95,
): readonly [number, number] | null {
  if (samples.length < 2) return null;
  const [mean, variance] = meanAndVariance(samples);
  const half = tQuantile(1 - (1 - level) / 2, samples.length - 1) *
    Math.sqrt(variance / samples.length);
  return [mean - half, mean + half];
}

/** The coefficient of variation (sample sd over mean) of `samples`; 0 for one sample. */
export function coefficientOfVariation(samples: readonly number[]): number {
  if (samples.length < 2) return 0;
  const [mean, variance] = meanAndVariance(samples);
  return mean === 0 ? 0 : Math.sqrt(variance) / Math.abs(mean);
}

/** Welch's t-test of mean(a) − mean(b). */
export interface WelchTest {
  readonly difference: number;
  /** The confidence interval of the difference. */
  readonly interval: readonly [number, number];
  readonly t: number;
  /** Welch–Satterthwaite degrees of freedom. */
  readonly df: number;
  /** Two-sided p-value of "the means are equal". */
  readonly p: number;
}

function meanAndVariance(samples: readonly number[]): [number, number] {
  const mean = samples.reduce((sum, x) => sum + x, 0) / samples.length;
  const variance = samples.reduce((sum, x) => sum + (x - mean) ** 2, 0) / (samples.length - 1);
  return [mean, variance];
}

/**
 * Welch's t-test of two sets of samples (two or more each), with the `level` (0.95) confidence
 * interval of the difference of their means.
 * @throws {RangeError} with fewer than two samples on a side.
 */
export function welchTest(a: readonly number[], b: readonly number[], level = 0.95): WelchTest {
  if (a.length < 2 || b.length < 2) {
    throw new RangeError(
      `a comparison needs two samples or more on each side (${a.length}, ${b.length})`,
    );
  }
  const [meanA, varA] = meanAndVariance(a);
  const [meanB, varB] = meanAndVariance(b);
  const [va, vb] = [varA / a.length, varB / b.length];
  const difference = meanA - meanB;
  const se = Math.sqrt(va + vb);
  if (se === 0) {
    // no spread at all: the difference is exactly what it is
    return {
      difference,
      interval: [difference, difference],
      t: difference ? Infinity : 0,
      df: Infinity,
      p: difference ? 0 : 1,
    };
  }
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  const t = difference / se;
  const half = tQuantile(1 - (1 - level) / 2, df) * se;
  return {
    difference,
    interval: [difference - half, difference + half],
    t,
    df,
    p: tTwoSided(t, df),
  };
}

/** What a comparison of A against B found. */
export interface Comparison {
  /** "better"/"worse": the interval excludes no change, by the figure's direction. */
  readonly verdict: "better" | "worse" | "inconclusive";
  /** mean(A)/mean(B) − 1, in percent. */
  readonly changePercent: number;
  /** The confidence interval of that change, in percent of mean(B). */
  readonly intervalPercent: readonly [number, number];
  readonly level: number;
  readonly test: WelchTest;
}

/**
 * A against B: better where the figure is higher (`higherIsBetter`, e.g. tok/s) or lower (e.g.
 * latency) beyond the confidence interval, else inconclusive.
 */
export function compareSamples(
  a: readonly number[],
  b: readonly number[],
  higherIsBetter: boolean,
  level = 0.95,
): Comparison {
  const test = welchTest(a, b, level);
  const meanB = b.reduce((sum, x) => sum + x, 0) / b.length;
  const percent = (x: number) => (100 * x) / meanB;
  const [low, high] = test.interval;
  const excludesZero = low > 0 || high < 0;
  const up = test.difference > 0;
  return {
    verdict: excludesZero ? (up === higherIsBetter ? "better" : "worse") : "inconclusive",
    changePercent: percent(test.difference),
    intervalPercent: [percent(low), percent(high)],
    level,
    test,
  };
}

/** A signed percentage: "+3.1 %", "−2.0 %". */
const signed = (x: number) => `${x < 0 ? "−" : "+"}${Math.abs(x).toFixed(1)} %`;

/**
 * The sentence for a comparison: "A is faster than B by X % (95 % CI lo % … hi %)", with the
 * words for better and worse given (faster/slower), or "A vs B: inconclusive (…)".
 */
export function describeComparison(
  nameA: string,
  nameB: string,
  comparison: Comparison,
  betterWord: string,
  worseWord: string,
): string {
  const [low, high] = comparison.intervalPercent;
  const level = `${Math.round(comparison.level * 100)} % CI`;
  if (comparison.verdict === "inconclusive") {
    return `${nameA} vs ${nameB}: inconclusive (${signed(comparison.changePercent)}, ${level} ` +
      `${signed(low)} … ${signed(high)})`;
  }
  const word = comparison.verdict === "better" ? betterWord : worseWord;
  const magnitude = (x: number) => `${Math.abs(x).toFixed(1)} %`;
  const [near, far] = comparison.changePercent < 0 ? [high, low] : [low, high];
  return `${nameA} is ${word} than ${nameB} by ${magnitude(comparison.changePercent)} ` +
    `(${level} ${magnitude(near)} … ${magnitude(far)})`;
}
