/**
 * Quantized tensor formats: the ggml type table and each format's reference conversions.
 * @module
 */
export * from "./types.ts";
export type { QuantFormat } from "./format.ts";
export { F16, F32 } from "./float.ts";
export { Q8_0 } from "./q8_0.ts";
export { Q4_0 } from "./q4_0.ts";
export { quantFormat, SUPPORTED_TYPES } from "./registry.ts";
