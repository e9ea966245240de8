import assert from "node:assert/strict";
import { F16, F32 } from "./float.ts";
import { roundHalfAwayFromZero } from "./format.ts";
import { Q4_0 } from "./q4_0.ts";
import { Q4_1 } from "./q4_1.ts";
import { Q5_0 } from "./q5_0.ts";
import { Q5_1 } from "./q5_1.ts";
import { Q6_K } from "./q6_k.ts";
import { Q4_K } from "./q4_k.ts";
import { Q2_K } from "./q2_k.ts";
import { Q3_K } from "./q3_k.ts";
import { Q5_K } from "./q5_k.ts";
import { Q8_0 } from "./q8_0.ts";
import { IQ4_NL } from "./iq4_nl.ts";
import { IQ4_XS } from "./iq4_xs.ts";
import { IQ3_XXS } from "./iq3_xxs.ts";
import { IQ3_S } from "./iq3_s.ts";
import { IQ2_XS } from "./iq2_xs.ts";
import { IQ2_S } from "./iq2_s.ts";
import { IQ2_XXS } from "./iq2_xxs.ts";
import { IQ1_S } from "./iq1_s.ts";
import { IQ1_M } from "./iq1_m.ts";
import { tensorByteSize } from "./types.ts";
import { loadGgml, unitImportance } from "../../peers/llama_cpp/ggml.ts";
import { Prng } from "../synth/prng.ts";

/** Values that exercise a quantizer: random rows, zeros, ties and extremes. */
function testValues(count: number, seed: number): Float32Array {
  const prng = new Prng(seed);
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = prng.uniform(2) * (i % 7 === 0 ? 10 : 1);
  values.fill(0, 0, 32); // an all-zero block (scale 0)
  for (let i = 32; i < 64; i++) values[i] = (i % 2 ? 1 : -1) * 0.5; // ties at half steps
  values[64] = 1e4; // one outlier dominating its block
  return values;
}

const ggml = await loadGgml().catch((error) => {
  console.warn(`ggml oracle unavailable, its tests are skipped: ${error.message}`);
  return null;
});

for (
  const format of [
    Q8_0,
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q2_K,
    Q3_K,
    Q4_K,
    Q5_K,
    Q6_K,
    IQ4_NL,
    IQ4_XS,
    IQ3_XXS,
    IQ3_S,
    IQ2_XS,
    IQ2_S,
    IQ2_XXS,
    IQ1_S,
    IQ1_M,
  ]
) {
  const rowLength = 256;
  const rows = 24;
  const values = testValues(rows * rowLength, 7);

  Deno.test({
    name: `quantize() is bit-exact with ggml's quantizer for ${format.type.name}`,
    ignore: ggml === null,
    fn() {
      const ours = new Uint8Array(tensorByteSize(format.type, [rowLength, rows]));
      format.quantize(values, ours);
      const importance = unitImportance(ggml!, format.type.id, rowLength);
      const theirs = ggml!.quantize(format.type.id, values, rows, rowLength, importance);
      if (format !== IQ3_S) {
        assert.deepStrictEqual(ours, theirs);
        return;
      }
      // ggml's IQ3_S writes a super-block's points one group early after a group of zeros (the
      // first super-block here has one): everywhere else the same bytes, there a smaller error
      const bytes = format.type.bytesPerBlock;
      assert.deepStrictEqual(ours.subarray(bytes), theirs.subarray(bytes));
      const error = (blocks: Uint8Array) => {
        const back = new Float32Array(256);
        format.dequantize(blocks.subarray(0, bytes), back);
        return back.reduce((sum, v, i) => sum + (v - values[i]!) ** 2, 0);
      };
      assert.ok(error(ours) < error(theirs) / 2, `${error(ours)} vs ggml's ${error(theirs)}`);
    },
  });

  Deno.test({
    name: `dequantize() matches ggml's dequantizer for ${format.type.name}`,
    ignore: ggml === null,
    fn() {
      const importance = unitImportance(ggml!, format.type.id, rowLength);
      const blocks = ggml!.quantize(format.type.id, values, rows, rowLength, importance);
      const ours = new Float32Array(values.length);
      format.dequantize(blocks, ours);
      assert.deepStrictEqual(
        ours,
        ggml!.dequantize(format.type.name, blocks, values.length),
      );
    },
  });

  // Q8_0 is symmetric (±127 steps): errors stay within half a step. Q4_0 and Q5_0 map the
  // extreme value to the most negative level (−8, −16 steps), so a value of the opposite sign and
  // equal magnitude clips one step short. Q4_1 and Q5_1 spread the range over 15 and 31 steps.
  const allowed = (slice: Float32Array, superBlock: Float32Array): number => {
    const amax = Math.max(...slice.map(Math.abs));
    const range = Math.max(...slice) - Math.min(...slice);
    const name = format.type.name;
    const step = name === "Q8_0"
      ? amax / 127 / 2
      : name === "Q4_0"
      ? amax / 8
      : name === "Q5_0"
      ? amax / 16
      : name === "Q3_K" // 3-bit levels under 6-bit scales of the block's d
      ? Math.max(...superBlock.map(Math.abs)) / 4
      : name === "Q2_K" // 2-bit levels: the error is about a sub-block's range over 3, and more
      ? Math.max(...superBlock.map(Math.abs)) / 2
      : name === "Q4_K" || name === "Q5_K" // 6-bit sub-block scales and minimums of the block's
      ? Math.max(...superBlock.map(Math.abs)) / (name === "Q4_K" ? 12 : 24) // d and dmin
      // a grid holds only some combinations of levels: a group with one value far beyond the rest
      // takes the nearest point there is; with 2 bits (and fewer) the levels are coarser still
      : name.startsWith("IQ3") || name.startsWith("IQ2") || name.startsWith("IQ1")
      ? Math.max(...superBlock.map(Math.abs)) * (name.startsWith("IQ3") ? 1 / 2 : 2 / 3)
      : name === "IQ4_NL" // non-linear levels at most 24 of 127 steps apart (89 → 113)
      ? amax * 12 / 127
      : name === "IQ4_XS" // and 6-bit sub-block scales of the super-block's
      ? Math.max(...superBlock.map(Math.abs)) * 12 / 127 +
        Math.max(...superBlock.map(Math.abs)) / 64
      : name === "Q6_K" // sub-block scales are 8-bit steps of the 256-value block's d: a small
      ? amax / 32 + Math.max(...superBlock.map(Math.abs)) / 128 // one may round to zero
      : range / (name === "Q4_1" ? 15 : 31) / 2;
    return step + amax * 1e-3 + 1e-7; // plus the f16 rounding of the scale (and minimum)
  };
  Deno.test(`${format.type.name} round trip stays within its quantization step`, () => {
    const bytes = new Uint8Array(tensorByteSize(format.type, [rowLength, rows]));
    format.quantize(values, bytes);
    const back = new Float32Array(values.length);
    format.dequantize(bytes, back);
    for (let block = 0; block < values.length / 32; block++) {
      const slice = values.subarray(block * 32, block * 32 + 32);
      const first = Math.floor((block * 32) / 256) * 256;
      const limit = allowed(slice, values.subarray(first, first + 256));
      for (let j = 0; j < 32; j++) {
        const error = Math.abs(back[block * 32 + j]! - slice[j]!);
        assert(error <= limit, `block ${block}: ${error} > ${limit}`);
      }
    }
  });
}

Deno.test("F32 and F16 round trip (F16 rounds to nearest even)", () => {
  const values = new Float32Array([0, 1, -2.5, 65504, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 1e-8]);
  const bytes32 = new Uint8Array(values.length * 4);
  F32.quantize(values, bytes32);
  const back32 = new Float32Array(values.length);
  F32.dequantize(bytes32, back32);
  assert.deepStrictEqual(back32, values);

  const bytes16 = new Uint8Array(values.length * 2);
  F16.quantize(values, bytes16);
  const back16 = new Float32Array(values.length);
  F16.dequantize(bytes16, back16);
  assert.deepStrictEqual([...back16], [0, 1, -2.5, 65504, 1, 1 + 2 * 2 ** -10 * 1, 0]);
});

Deno.test("roundHalfAwayFromZero() rounds as C's roundf", () => {
  const cases: [number, number][] = [
    [0.5, 1],
    [-0.5, -1],
    [2.5, 3],
    [-2.5, -3],
    [Math.fround(0.49999997), 0],
    [Math.fround(-1.4999999), -1],
    [126.5, 127],
    [-0, 0],
  ];
  for (const [x, expected] of cases) assert.equal(roundHalfAwayFromZero(x) + 0, expected, `${x}`);
});
