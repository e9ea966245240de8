/**
 * What ggml's CPU dot products do to activations. A mat-vec with quantized weights does not
 * see the f32 activation row: ggml first converts it to the weight type's "vec_dot type"
 * (Q8_0, Q8_1, Q8_K, F16 or BF16) and multiplies block against block. To follow llama.cpp's
 * numbers, moebench rounds activations the same way; the values below are exactly those the
 * converted blocks stand for (d·q), so a plain f32 dot product with the decoded weights then
 * equals ggml's up to summation order.
 *
 * Rounding follows ggml's x86 code (the machines llama.cpp is compared on here): Q8_0 and Q8_1
 * use a scale of 127/amax and round half to even (AVX `_mm256_round_ps`), Q8_K uses
 * `quantize_row_q8_K_ref` (scale −127/max, round half to even).
 *
 * @example
 * ```ts
 * import { roundActivations, vecDotType } from "./activations.ts";
 * const x = Float32Array.from({ length: 256 }, (_, i) => Math.sin(i));
 * const seen = new Float32Array(256);
 * roundActivations(vecDotType("Q4_K"), x, seen); // as Q8_K blocks
 * ```
 * @module
 */
import { QK_K } from "./types.ts";

/** The representation ggml converts activations to before a dot product. */
export type VecDotType = "F32" | "F16" | "BF16" | "Q8_0" | "Q8_1" | "Q8_K";

/** ggml's `type_traits_cpu[type].vec_dot_type`, for the weight types moebench runs. */
const VEC_DOT_TYPES: Readonly<Record<string, VecDotType>> = {
  F32: "F32",
  F16: "F16",
  BF16: "BF16",
  Q4_0: "Q8_0",
  Q4_1: "Q8_1",
  Q5_0: "Q8_0",
  Q5_1: "Q8_1",
  Q8_0: "Q8_0",
  IQ4_NL: "Q8_0",
  Q2_K: "Q8_K",
  Q3_K: "Q8_K",
  Q4_K: "Q8_K",
  Q5_K: "Q8_K",
  Q6_K: "Q8_K",
  IQ4_XS: "Q8_K",
  IQ2_XXS: "Q8_K",
  IQ2_XS: "Q8_K",
  IQ2_S: "Q8_K",
  IQ3_XXS: "Q8_K",
  IQ3_S: "Q8_K",
  IQ1_S: "Q8_K",
  IQ1_M: "Q8_K",
};

/** The vec_dot type of a weight type. */
export function vecDotType(weightType: string): VecDotType {
  const type = VEC_DOT_TYPES[weightType];
  if (!type) throw new RangeError(`No vec_dot type known for ${weightType}`);
  return type;
}

const fround = Math.fround;
const f16 = new Float16Array(1);
const bf16Bits = new Uint32Array(1);
const bf16Float = new Float32Array(bf16Bits.buffer);

/** f32 → nearest integer, ties to even, as ggml's `nearest_int` and AVX rounding. */
function roundHalfEven(x: number): number {
  // adding 1.5·2^23 pushes the fraction out of an f32 mantissa, which rounds it to even
  return fround(x + 12582912) - 12582912;
}

const f32Value = new Float32Array(1);
const f32Bits = new Uint32Array(f32Value.buffer);

/**
 * Rounds the first `length` values of `x` to f16 precision (nearest, ties to even), in place.
 * On the bits, because `Math.f16round` and Float16Array stores allocate a number per value in
 * optimized code.
 */
export function roundToF16(x: Float32Array, length: number): void {
  for (let i = 0; i < length; i++) {
    f32Value[0] = x[i]!;
    const bits = f32Bits[0]!;
    const exponent = (bits >>> 23) & 0xff;
    if (exponent >= 143) {
      // beyond f16's range (65520 and up round to infinity); infinities and NaN stay
      if (exponent !== 255) f32Bits[0] = (bits & 0x80000000) | 0x7f800000;
    } else if (exponent >= 113) {
      // a normal half: 10 of the 23 mantissa bits remain; a carry past 65504 means infinity
      let rounded = (bits + 0xfff + ((bits >>> 13) & 1)) & 0xffffe000;
      if (((rounded >>> 23) & 0xff) >= 143) rounded = (bits & 0x80000000) | 0x7f800000;
      f32Bits[0] = rounded >>> 0;
    } else {
      // a subnormal half or zero: |x| to a multiple of 2^-24, which adding 0.75 (whose ulp is
      // 2^-24) rounds to; then the sign back
      const sign = bits & 0x80000000;
      f32Bits[0] = bits & 0x7fffffff;
      f32Value[0] = fround(f32Value[0]! + 0.75) - 0.75;
      f32Bits[0] = (f32Bits[0]! | sign) >>> 0;
    }
    x[i] = f32Value[0]!;
  }
}

/**
 * Writes into `out` the values ggml's dot products see for the activation row `x`.
 *
 * A Q8_1 block also stores its sum `s = d·Σq` as f16, which ggml's Q4_1/Q5_1 dot products
 * multiply by the weight block's minimum `m` instead of summing `m·d·q` term by term. For Q8_1,
 * `sumErrors` (one per block of 32) receives `s − d·Σq`, the part of that product the values
 * in `out` cannot carry: add `m·sumErrors[block]` to a dot product to get ggml's.
 */
export function roundActivations(
  type: VecDotType,
  x: Float32Array,
  out: Float32Array,
  sumErrors?: Float32Array,
): void {
  switch (type) {
    case "F32":
      out.set(x);
      return;
    case "F16":
      out.set(x);
      return roundToF16(out, out.length);
    case "BF16":
      // GGML_FP32_TO_BF16: round to nearest even on the top 16 bits
      for (let i = 0; i < x.length; i++) {
        bf16Float[0] = x[i]!;
        const bits = bf16Bits[0]!;
        bf16Bits[0] = ((bits + (0x7fff + ((bits >>> 16) & 1))) >>> 16) << 16;
        out[i] = bf16Float[0]!;
      }
      return;
    case "Q8_0":
      return roundBlocksQ8(x, out);
    case "Q8_1":
      return roundBlocksQ8(x, out, sumErrors);
    case "Q8_K":
      return roundBlocksQ8K(x, out);
  }
}

/**
 * Q8_0/Q8_1 blocks of 32: d = f16(amax/127), q = round-half-even(x·127/amax). With `sumErrors`
 * (Q8_1), each block's f16(s) − d·Σq, where ggml's stored sum s = f16(amax/127 · Σq) takes the
 * f32 scale, not the f16 one.
 */
function roundBlocksQ8(x: Float32Array, out: Float32Array, sumErrors?: Float32Array): void {
  for (let block = 0; block < x.length; block += 32) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[block + j]!));
    const scale = fround(amax / 127);
    f16[0] = scale;
    const d = f16[0]!;
    const inverse = amax !== 0 ? fround(127 / amax) : 0;
    let quantSum = 0;
    for (let j = 0; j < 32; j++) {
      const q = roundHalfEven(fround(x[block + j]! * inverse));
      quantSum += q;
      out[block + j] = d * q;
    }
    if (sumErrors) {
      f16[0] = fround(scale * quantSum);
      sumErrors[block / 32] = f16[0]! - d * quantSum;
    }
  }
}

/** Q8_K blocks of 256: scale −127/max (max: the signed value of largest magnitude). */
function roundBlocksQ8K(x: Float32Array, out: Float32Array): void {
  for (let block = 0; block < x.length; block += QK_K) {
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK_K; j++) {
      const magnitude = Math.abs(x[block + j]!);
      if (magnitude > amax) {
        amax = magnitude;
        max = x[block + j]!;
      }
    }
    if (amax === 0) {
      out.fill(0, block, block + QK_K);
      continue;
    }
    const inverseScale = fround(-127 / max);
    const d = fround(1 / inverseScale);
    for (let j = 0; j < QK_K; j++) {
      const q = Math.min(127, roundHalfEven(fround(inverseScale * x[block + j]!)));
      out[block + j] = d * q;
    }
  }
}
