/**
 * Quantized tensor formats: the ggml type table and each format's reference conversions.
 * @module
 */
export * from "./types.ts";
export type { QuantFormat, Quantizer } from "./format.ts";
export { BF16, F16, F32 } from "./float.ts";
export { Q4_0 } from "./q4_0.ts";
export { Q4_1 } from "./q4_1.ts";
export { Q5_0 } from "./q5_0.ts";
export { Q5_1 } from "./q5_1.ts";
export { Q8_0 } from "./q8_0.ts";
export { Q2_K } from "./q2_k.ts";
export { Q3_K } from "./q3_k.ts";
export { Q4_K } from "./q4_k.ts";
export { Q5_K } from "./q5_k.ts";
export { Q6_K } from "./q6_k.ts";
export { IQ2_XXS } from "./iq2_xxs.ts";
export { IQ2_XS } from "./iq2_xs.ts";
export { IQ2_S } from "./iq2_s.ts";
export { IQ3_XXS } from "./iq3_xxs.ts";
export { IQ3_S } from "./iq3_s.ts";
export { IQ1_S } from "./iq1_s.ts";
export { IQ1_M } from "./iq1_m.ts";
export { IQ4_NL, IQ4_VALUES } from "./iq4_nl.ts";
export { IQ4_XS } from "./iq4_xs.ts";
export { FORMATS, quantFormat, quantizer, SUPPORTED_TYPES } from "./registry.ts";
