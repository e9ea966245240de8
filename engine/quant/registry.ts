/**
 * Maps ggml types to the formats moebench implements.
 *
 * @example
 * ```ts
 * import { quantFormat } from "./registry.ts";
 * const q8 = quantFormat("Q8_0");
 * const bytes = new Uint8Array(34);
 * q8.quantize(new Float32Array(32).fill(0.5), bytes);
 * ```
 * @module
 */
import { F16, F32 } from "./float.ts";
import type { QuantFormat } from "./format.ts";
import { Q4_0 } from "./q4_0.ts";
import { Q8_0 } from "./q8_0.ts";
import { ggmlType } from "./types.ts";

const FORMATS: readonly QuantFormat[] = [F32, F16, Q8_0, Q4_0];
const byName = new Map(FORMATS.map((format) => [format.type.name, format]));

/** Names of the types moebench can encode and decode, in table order. */
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
      `ggml type ${type.name} is not supported yet; supported: ${SUPPORTED_TYPES.join(", ")}`,
    );
  }
  return format;
}
