/**
 * HQQ, half-quadratic quantization (Badri & Shaji 2023, the quantizer Eliseev & Mazur used for
 * their offloaded experts): data-free, it fits each group's zero point to the weights under a
 * sparsity-promoting ℓp loss (p < 1), which lets a few outliers take large errors so that the
 * bulk lands closer. The solver alternates a generalized soft-threshold (the shrinkage step) with
 * a closed-form zero update, annealing β. Here it runs on the affine 32-value formats
 * (x = d·q + m: Q4_1, Q5_1), followed by a least-squares fit of d and m to the chosen levels, and
 * every block keeps whichever of round-to-nearest (ggml's min/max), HQQ and the fit reconstructs
 * best once d and m are rounded to f16 as stored — so no block gets worse than ggml's quantizer.
 * The output is standard GGUF blocks any reader decodes.
 *
 * @example
 * ```ts
 * import { hqqQuantize } from "./hqq.ts";
 * const values = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) ** 3);
 * const blocks = new Uint8Array(2 * 20); // two Q4_1 blocks
 * hqqQuantize("Q4_1", values, blocks);
 * ```
 * @module
 */
import { readF16, writeF16 } from "../quant/float.ts";
import { checkBlockSpans } from "../quant/format.ts";
import { fieldOffset, ggmlType } from "../quant/types.ts";
import { valueRange, writeFiveBits, writeNibbles } from "../quant/_legacy.ts";

/** The affine formats HQQ writes. */
export const HQQ_TYPES = ["Q4_1", "Q5_1"] as const;
export type HqqType = typeof HQQ_TYPES[number];

/** The solver's settings (HQQ's defaults). */
export interface HqqOptions {
  readonly iterations?: number;
  /** The ℓp norm's p. */
  readonly p?: number;
  readonly beta?: number;
  /** β's growth per iteration. */
  readonly kappa?: number;
}

const BLOCK = 32;

/** Rounds through f16, as a stored scale or minimum is. */
const viaF16 = (() => {
  const view = new DataView(new ArrayBuffer(2));
  return (x: number) => {
    writeF16(view, 0, x);
    return readF16(view, 0);
  };
})();

/** A block's levels, scale and minimum, and its squared error as stored. */
interface Fit {
  d: number;
  m: number;
  q: Uint8Array;
  error: number;
}

/** Levels of `x` for scale `d` and minimum `m` (nearest, clamped), and the stored error. */
function fitFor(x: Float32Array, d: number, m: number, top: number): Fit {
  const [sd, sm] = [viaF16(d), viaF16(m)];
  const q = new Uint8Array(BLOCK);
  let error = 0;
  for (let j = 0; j < BLOCK; j++) {
    const level = sd > 0 ? Math.min(top, Math.max(0, Math.round((x[j]! - sm) / sd))) : 0;
    q[j] = level;
    error += (x[j]! - (Math.fround(level * sd) + sm)) ** 2;
  }
  return { d: sd, m: sm, q, error };
}

/** ggml's round-to-nearest: the range spread over the levels. */
function minMax(x: Float32Array, top: number): Fit {
  const { min, max } = valueRange(x, 0, BLOCK);
  return fitFor(x, (max - min) / top, min, top);
}

/** HQQ's zero-point optimisation (scale fixed), as levels of d·(q − z) = d·q + m with m = −d·z. */
function halfQuadratic(x: Float32Array, start: Fit, top: number, options: HqqOptions): Fit {
  const { iterations = 20, p = 0.7, kappa = 1.01 } = options;
  let beta = options.beta ?? 10;
  const s = start.d;
  if (s === 0) return start;
  let z = -start.m / s;
  const q = new Float64Array(BLOCK);
  const round = () => {
    for (let j = 0; j < BLOCK; j++) q[j] = Math.min(top, Math.max(0, Math.round(x[j]! / s + z)));
  };
  round();
  for (let it = 0; it < iterations; it++) {
    // shrinkage: the part of the error an ℓp loss lets stand (outliers), the rest goes to z
    let sum = 0;
    for (let j = 0; j < BLOCK; j++) {
      const e = x[j]! - s * (q[j]! - z);
      const magnitude = Math.abs(e);
      const shrunk = magnitude > 0
        ? Math.sign(e) * Math.max(0, magnitude - Math.pow(magnitude, p - 1) / beta)
        : 0;
      sum += q[j]! - (x[j]! - shrunk) / s;
    }
    z = sum / BLOCK;
    round();
    beta *= kappa;
  }
  return fitFor(x, s, -s * z, top);
}

/** Least squares of d and m for the levels of `fit`, then the levels for them. */
function leastSquares(x: Float32Array, fit: Fit, top: number): Fit {
  let [sq, sqq, sx, sqx] = [0, 0, 0, 0];
  for (let j = 0; j < BLOCK; j++) {
    const q = fit.q[j]!;
    sq += q;
    sqq += q * q;
    sx += x[j]!;
    sqx += q * x[j]!;
  }
  const det = BLOCK * sqq - sq * sq;
  if (det === 0) return fit;
  const d = (BLOCK * sqx - sq * sx) / det;
  const m = (sx - d * sq) / BLOCK;
  return d > 0 ? fitFor(x, d, m, top) : fit;
}

/** Encodes `src` as `type` blocks into `dst` with HQQ (see the module's description). */
export function hqqQuantize(
  typeName: HqqType,
  src: Float32Array,
  dst: Uint8Array,
  options: HqqOptions = {},
): void {
  const type = ggmlType(typeName);
  const blocks = checkBlockSpans(type, src.length, dst.length);
  const view = new DataView(dst.buffer, dst.byteOffset, dst.length);
  const top = typeName === "Q4_1" ? 15 : 31;
  const [D, M, QS] = [fieldOffset(type, "d"), fieldOffset(type, "m"), fieldOffset(type, "qs")];
  for (let b = 0; b < blocks; b++) {
    const x = src.subarray(b * BLOCK, (b + 1) * BLOCK);
    const rtn = minMax(x, top);
    const hqq = halfQuadratic(x, rtn, top, options);
    let best = rtn;
    for (const candidate of [hqq, leastSquares(x, hqq, top), leastSquares(x, rtn, top)]) {
      if (candidate.error < best.error) best = candidate;
    }
    const at = b * type.bytesPerBlock;
    writeF16(view, at + D, best.d);
    writeF16(view, at + M, best.m);
    if (typeName === "Q4_1") writeNibbles(view, at + QS, best.q);
    else writeFiveBits(view, at + QS, at + fieldOffset(type, "qh"), best.q);
  }
}
