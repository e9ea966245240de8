import assert from "node:assert/strict";
import { ReferenceMatrix } from "./matrix.ts";
import { quantizer } from "../quant/registry.ts";
import { roundActivations } from "../quant/activations.ts";
import { Prng } from "../synth/prng.ts";

function stacked(activations: "Q8_0" | null): ReferenceMatrix {
  const prng = new Prng(2);
  const values = Float32Array.from({ length: 4 * 64 }, () => prng.uniform(1));
  const bytes = new Uint8Array(4 * 2 * 34);
  quantizer("Q8_0").quantize(values, bytes);
  return new ReferenceMatrix(quantizer("Q8_0"), 4, 64, bytes, activations);
}

Deno.test("matVec() with an activation type multiplies the rounded input", () => {
  const prng = new Prng(3);
  const x = Float32Array.from({ length: 64 }, () => prng.uniform(2));
  const rounded = new Float32Array(64);
  roundActivations("Q8_0", x, rounded);
  const viaRounding = new Float32Array(4);
  stacked("Q8_0").matVec(x, viaRounding);
  const exact = new Float32Array(4);
  stacked(null).matVec(rounded, exact);
  assert.deepStrictEqual(viaRounding, exact);
});

Deno.test("slice() gives expert e's rows and keeps the activation rounding", () => {
  const whole = stacked("Q8_0");
  const expert = whole.slice(1, 2);
  assert.equal(expert.rows, 2);
  assert.equal(expert.activationType, "Q8_0");
  const row = new Float32Array(64);
  const fromWhole = new Float32Array(64);
  expert.decodeRow(0, row);
  whole.decodeRow(2, fromWhole);
  assert.deepStrictEqual(row, fromWhole);
});
