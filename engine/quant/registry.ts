/**
 * Maps ggml types to the formats moebench implements.
 *
 * @example
 * ```ts
 * import { quantFormat, quantizer } from "./registry.ts";
 * const q8 = quantizer("Q8_0");
 * const bytes = new Uint8Array(34);
 * q8.quantize(new Float32Array(32).fill(0.5), bytes);
 * const back = new Float32Array(32);
 * quantFormat("Q8_0").dequantize(bytes, back);
 * ```
 * @module
 */
import { BF16, F16, F32 } from "./float.ts";
import type { QuantFormat, Quantizer } from "./format.ts";
import { IQ1_M } from "./iq1_m.ts";
import { IQ1_S } from "./iq1_s.ts";
import { IQ2_S } from "./iq2_s.ts";
import { IQ2_XS } from "./iq2_xs.ts";
import { IQ2_XXS } from "./iq2_xxs.ts";
import { IQ3_S } from "./iq3_s.ts";
import { IQ3_XXS } from "./iq3_xxs.ts";
import { IQ4_NL } from "./iq4_nl.ts";
import { IQ4_XS } from "./iq4_xs.ts";
import { Q2_K } from "./q2_k.ts";
import { Q3_K } from "./q3_k.ts";
import { Q4_0 } from "./q4_0.ts";
import { Q4_1 } from "./q4_1.ts";
import { Q4_K } from "./q4_k.ts";
import { Q5_0 } from "./q5_0.ts";
import { Q5_1 } from "./q5_1.ts";
import { Q5_K } from "./q5_k.ts";
import { Q6_K } from "./q6_k.ts";
import { Q8_0 } from "./q8_0.ts";
import { ggmlType } from "./types.ts";

/** Every format moebench reads, in type-table order. */
export const FORMATS: readonly QuantFormat[] = [
  F32,
  F16,
  Q4_0,
  Q4_1,
  Q5_0,
  Q5_1,
  Q8_0,
  Q2_K,
  Q3_K,
  Q4_K,
  Q5_K,
  Q6_K,
  IQ2_XXS,
  IQ2_XS,
  IQ3_XXS,
  IQ1_S,
  IQ4_NL,
  IQ3_S,
  IQ2_S,
  IQ4_XS,
  IQ1_M,
  BF16,
];
const byName = new Map(FORMATS.map((format) => [format.type.name, format]));

/** Names of the types moebench can read. */
export const SUPPORTED_TYPES: readonly string[] = FORMATS.map((format) => format.type.name);

/**
 * The format for a ggml type name (case-insensitive).
 * @throws {RangeError} when the type is unknown to ggml or not implemented by moebench.
 */
export function quantFormat(name: string): QuantFormat {
  const type = ggmlType(name);
  const format = byName.get(type.name);
  if (!format) {
    throw new RangeError(
      `ggml type ${type.name} is not supported; supported: ${SUPPORTED_TYPES.join(", ")}`,
    );
  }
  return format;
}

/**
 * The format for a type moebench can also encode.
 * @throws {RangeError} when there is no quantizer for it (yet).
 */
export function quantizer(name: string): Quantizer {
  const format = quantFormat(name);
  if (!format.quantize) throw new RangeError(`moebench cannot write ${format.type.name} yet`);
  return format as Quantizer;
}
