/**
 * HQQ, half-quadratic quantization (Badri & Shaji 2023, the quantizer Eliseev & Mazur used for
 * their offloaded experts): data-free, it fits each group's zero point to the weights under a
 * sparsity-promoting ℓp loss (p < 1), which lets a few outliers take large errors so that the
 * bulk lands closer. The solver alternates a generalized soft-threshold (the shrinkage step) with
 * a closed-form zero update, annealing β. Here it runs on the affine formats: the 32-value
 * blocks of Q4_1 and Q5_1 (x = d·q + m), and the sub-blocks of Q2_K (16 values), Q4_K and Q5_K
 * (32) (x = scale·q − min), followed by a least-squares fit of scale and offset to the chosen
 * levels, and for the K-quants one of the super-block's d and dmin to the quantized codes.
 * Every block keeps whichever of round-to-nearest (ggml's reference quantizer), HQQ and the fit
 * reconstructs best as stored (Q4_1/Q5_1: d and m in f16; the K-quants: the super-block as a
 * whole, once its sub-blocks' scales and minimums are quantized as ggml does) — so no
 * block gets worse than ggml's quantizer. The output is standard GGUF blocks any reader decodes.
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
import { encodeQ2KBlock } from "../quant/q2_k.ts";
import { encodeQ4KBlock } from "../quant/q4_k.ts";
import { encodeQ5KBlock } from "../quant/q5_k.ts";
import { quantFormat } from "../quant/registry.ts";
import { fieldOffset, ggmlType, QK_K } from "../quant/types.ts";
import { valueRange, writeFiveBits, writeNibbles } from "../quant/_legacy.ts";
import type { ScaleMinRefiner } from "../quant/_k_quants.ts";

/** The affine formats HQQ writes. */
export const HQQ_TYPES = ["Q4_1", "Q5_1", "Q2_K", "Q4_K", "Q5_K"] as const;
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
  const q = new Uint8Array(x.length);
  let error = 0;
  for (let j = 0; j < x.length; j++) {
    const level = sd > 0 ? Math.min(top, Math.max(0, Math.round((x[j]! - sm) / sd))) : 0;
    q[j] = level;
    error += (x[j]! - (Math.fround(level * sd) + sm)) ** 2;
  }
  return { d: sd, m: sm, q, error };
}

/** ggml's round-to-nearest: the range spread over the levels. */
function minMax(x: Float32Array, top: number): Fit {
  const { min, max } = valueRange(x, 0, x.length);
  return fitFor(x, (max - min) / top, min, top);
}

/** HQQ's zero-point optimisation (scale fixed), as levels of d·(q − z) = d·q + m with m = −d·z. */
function halfQuadratic(x: Float32Array, start: Fit, top: number, options: HqqOptions): Fit {
  const { iterations = 20, p = 0.7, kappa = 1.01 } = options;
  let beta = options.beta ?? 10;
  const s = start.d;
  if (s === 0) return start;
  let z = -start.m / s;
  const n = x.length;
  const q = new Float64Array(n);
  const round = () => {
    for (let j = 0; j < n; j++) q[j] = Math.min(top, Math.max(0, Math.round(x[j]! / s + z)));
  };
  round();
  for (let it = 0; it < iterations; it++) {
    // shrinkage: the part of the error an ℓp loss lets stand (outliers), the rest goes to z
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const e = x[j]! - s * (q[j]! - z);
      const magnitude = Math.abs(e);
      const shrunk = magnitude > 0
        ? Math.sign(e) * Math.max(0, magnitude - Math.pow(magnitude, p - 1) / beta)
        : 0;
      sum += q[j]! - (x[j]! - shrunk) / s;
    }
    z = sum / n;
    round();
    beta *= kappa;
  }
  return fitFor(x, s, -s * z, top);
}

/** Least squares of d and m for the levels of `fit`, then the levels for them. */
function leastSquares(x: Float32Array, fit: Fit, top: number): Fit {
  const n = x.length;
  let [sq, sqq, sx, sqx] = [0, 0, 0, 0];
  for (let j = 0; j < n; j++) {
    const q = fit.q[j]!;
    sq += q;
    sqq += q * q;
    sx += x[j]!;
    sqx += q * x[j]!;
  }
  const det = n * sqq - sq * sq;
  if (det === 0) return fit;
  const d = (n * sqx - sq * sx) / det;
  const m = (sx - d * sq) / n;
  return d > 0 ? fitFor(x, d, m, top) : fit;
}

/** The best of a sub-block's fit as found, HQQ from it, and the least-squares fits of both. */
function bestFit(x: Float32Array, start: Fit, top: number, options: HqqOptions): Fit {
  const hqq = halfQuadratic(x, start, top, options);
  let best = start;
  for (const candidate of [hqq, leastSquares(x, hqq, top), leastSquares(x, start, top)]) {
    if (candidate.error < best.error) best = candidate;
  }
  return best;
}

/** Squared error of `bytes` (blocks of `typeName`) decoded into `scratch` against `x[from…]`. */
function storedError(
  typeName: string,
  bytes: Uint8Array,
  x: Float32Array,
  from: number,
  scratch: Float32Array,
): number {
  quantFormat(typeName).dequantize(bytes, scratch);
  let error = 0;
  for (let i = 0; i < scratch.length; i++) error += (scratch[i]! - x[from + i]!) ** 2;
  return error;
}

/** The K-quants HQQ writes, and their block encoders with HQQ's hooks. */
type KQuantType = "Q2_K" | "Q4_K" | "Q5_K";
const K_ENCODERS: Readonly<Record<KQuantType, typeof encodeQ4KBlock>> = {
  Q2_K: encodeQ2KBlock,
  Q4_K: encodeQ4KBlock,
  Q5_K: encodeQ5KBlock,
};

/** The K-quants: each super-block ggml's, or with HQQ's sub-block fits where that is better. */
function hqqQuantizeK(
  typeName: KQuantType,
  src: Float32Array,
  dst: Uint8Array,
  options: HqqOptions,
): void {
  const type = ggmlType(typeName);
  const blocks = checkBlockSpans(type, src.length, dst.length);
  const encode = K_ENCODERS[typeName];
  const view = new DataView(dst.buffer, dst.byteOffset, dst.length);
  const refined = new Uint8Array(type.bytesPerBlock);
  const refinedView = new DataView(refined.buffer);
  const decoded = new Float32Array(QK_K);
  // ggml's sub-block fits and HQQ's, each with least-squares passes over d and dmin
  const refinements: ScaleMinRefiner[] = [{ superBlockPasses: 4 }, {
    subBlocks(x, from, scales, mins, top) {
      const size = QK_K / scales.length;
      for (let j = 0; j < scales.length; j++) {
        const sub = x.subarray(from + size * j, from + size * (j + 1));
        const fit = bestFit(sub, fitFor(sub, scales[j]!, -mins[j]!, top), top, options);
        scales[j] = fit.d;
        mins[j] = Math.max(0, -fit.m);
      }
    },
    superBlockPasses: 4,
  }];
  for (let b = 0; b < blocks; b++) {
    const [from, at] = [b * QK_K, b * type.bytesPerBlock];
    encode(src, from, view, at);
    const stored = dst.subarray(at, at + type.bytesPerBlock);
    let error = storedError(typeName, stored, src, from, decoded);
    for (const refine of refinements) {
      encode(src, from, refinedView, 0, refine);
      const refinedError = storedError(typeName, refined, src, from, decoded);
      if (refinedError < error) {
        stored.set(refined);
        error = refinedError;
      }
    }
  }
}

/** Encodes `src` as `type` blocks into `dst` with HQQ (see the module's description). */
export function hqqQuantize(
  typeName: HqqType,
  src: Float32Array,
  dst: Uint8Array,
  options: HqqOptions = {},
): void {
  if (typeName in K_ENCODERS) {
    hqqQuantizeK(typeName as KQuantType, src, dst, options);
    return;
  }
  const type = ggmlType(typeName);
  const blocks = checkBlockSpans(type, src.length, dst.length);
  const view = new DataView(dst.buffer, dst.byteOffset, dst.length);
  const top = typeName === "Q4_1" ? 15 : 31;
  const [D, M, QS] = [fieldOffset(type, "d"), fieldOffset(type, "m"), fieldOffset(type, "qs")];
  for (let b = 0; b < blocks; b++) {
    const x = src.subarray(b * 32, (b + 1) * 32);
    const best = bestFit(x, minMax(x, top), top, options);
    const at = b * type.bytesPerBlock;
    writeF16(view, at + D, best.d);
    writeF16(view, at + M, best.m);
    if (typeName === "Q4_1") writeNibbles(view, at + QS, best.q);
    else writeFiveBits(view, at + QS, at + fieldOffset(type, "qh"), best.q);
  }
}
