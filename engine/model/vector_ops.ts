/**
 * The operations between the mat-muls that a backend runs in its own kernels, on buffers it
 * allocated (`MatrixBackend.buffer`): RMS norm and RoPE. These are the reference versions, in
 * plain TypeScript with f64 intermediates; a backend's kernels give the same bits.
 *
 * @example
 * ```ts
 * import { referenceVectorOps } from "./vector_ops.ts";
 * const x = Float32Array.of(3, 4);
 * referenceVectorOps.rmsNorm(x, x, Float32Array.of(1, 1), 0, 0, 2);
 * console.log([...x]); // about [0.85, 1.13]: x / sqrt(mean(x²))
 * ```
 * @module
 */

/**
 * RoPE's angles for `count` tokens at positions `pos` …: `cos` and `sin` get, per token, the
 * `ropeDim/2` values cos(position·θ_pair) and sin(…), θ_pair = base^(−2·pair/ropeDim).
 */
export function ropeRotations(
  cos: Float32Array | Float64Array,
  sin: Float32Array | Float64Array,
  count: number,
  pos: number,
  base: number,
  ropeDim: number,
): void {
  const half = ropeDim / 2;
  for (let i = 0; i < count; i++) {
    for (let pair = 0; pair < half; pair++) {
      const theta = (pos + i) * Math.pow(base, (-2 * pair) / ropeDim);
      cos[i * half + pair] = Math.cos(theta);
      sin[i * half + pair] = Math.sin(theta);
    }
  }
}

/** RoPE's two pairings of a head's dimensions: `normal` (2i, 2i+1), `neox` (i, i + half). */
export type RopeStyle = "normal" | "neox";

/** RMS norm and RoPE, as a backend runs them. */
export interface VectorOps {
  /**
   * out = x / sqrt(mean(x²) + ε) ⊙ weight over the `length` values from index `at` (a whole
   * row, one head, or a latent). `out` may be `x`.
   */
  rmsNorm(
    out: Float32Array,
    x: Float32Array,
    weight: Float32Array,
    epsilon: number,
    at: number,
    length: number,
  ): void;
  /**
   * Rotates the `2·half` values from `x[at]` by the angles whose cosines and sines are
   * `cos[from … from + half)` and `sin[…]`, paired as `style` says.
   */
  rope(
    x: Float32Array,
    at: number,
    cos: Float64Array,
    sin: Float64Array,
    from: number,
    half: number,
    style: RopeStyle,
  ): void;
}

/** The reference: plain loops in f64. */
export const referenceVectorOps: VectorOps = {
  rmsNorm(out, x, weight, epsilon, at, length) {
    let squares = 0;
    for (let i = at; i < at + length; i++) squares += x[i]! * x[i]!;
    const scale = 1 / Math.sqrt(squares / length + epsilon);
    for (let i = 0; i < length; i++) out[at + i] = x[at + i]! * scale * weight[i]!;
  },
  rope(x, at, cos, sin, from, half, style) {
    for (let i = 0; i < half; i++) {
      const a = style === "normal" ? at + 2 * i : at + i;
      const b = style === "normal" ? a + 1 : a + half;
      const x0 = x[a]!;
      const x1 = x[b]!;
      x[a] = x0 * cos[from + i]! - x1 * sin[from + i]!;
      x[b] = x0 * sin[from + i]! + x1 * cos[from + i]!;
    }
  },
};
