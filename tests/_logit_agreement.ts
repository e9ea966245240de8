/**
 * How closely one engine's teacher-forced logits follow llama.cpp's, in the terms of the engine
 * issue's acceptance: top-1 agreement where llama.cpp's top-1/top-2 margin exceeds 0.05, and the
 * mean absolute logit difference on llama.cpp's top-3 tokens.
 * @module
 */

/** The agreement of one run. */
export interface LogitAgreement {
  readonly positions: number;
  /** Positions whose llama.cpp top-1/top-2 margin exceeds the threshold. */
  readonly decisive: number;
  /** Fraction of decisive positions where both engines pick the same top-1 token. */
  readonly top1Agreement: number;
  /** Mean |ours − llama.cpp| over llama.cpp's top-3 tokens at every position. */
  readonly meanTop3Delta: number;
  readonly maxTop3Delta: number;
}

/**
 * Compares `ours` (full logits per position) with llama.cpp's top logits per position
 * (`[id, logit]`, best first, at least 3 each).
 */
export function logitAgreement(
  ours: readonly Float32Array[],
  theirs: readonly (readonly [number, number][])[],
  margin = 0.05,
): LogitAgreement {
  let decisive = 0;
  let agreeing = 0;
  let deltaSum = 0;
  let deltaCount = 0;
  let maxDelta = 0;
  for (const [pos, reference] of theirs.entries()) {
    const logits = ours[pos]!;
    const [first, second] = reference;
    if (first![1] - second![1] > margin) {
      decisive++;
      let best = 0;
      for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
      if (best === first![0]) agreeing++;
    }
    for (const [id, logit] of reference.slice(0, 3)) {
      const delta = Math.abs(logits[id]! - logit);
      deltaSum += delta;
      deltaCount++;
      maxDelta = Math.max(maxDelta, delta);
    }
  }
  return {
    positions: theirs.length,
    decisive,
    top1Agreement: decisive ? agreeing / decisive : 1,
    meanTop3Delta: deltaSum / deltaCount,
    maxTop3Delta: maxDelta,
  };
}
