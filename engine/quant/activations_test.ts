import assert from "node:assert/strict";
import { roundActivations, roundToF16, type VecDotType } from "./activations.ts";
import { quantFormat } from "./registry.ts";
import { ggmlType } from "./types.ts";
import { loadGgml } from "../../peers/llama_cpp/ggml.ts";
import { Prng } from "../synth/prng.ts";

const ggml = await loadGgml().catch((error) => {
  console.warn(`ggml oracle unavailable, its tests are skipped: ${error.message}`);
  return null;
});

/** Activation rows like a transformer's: mostly small, a few large outliers, some zero blocks. */
function activationRow(length: number, seed: number): Float32Array {
  const prng = new Prng(seed);
  const x = new Float32Array(length);
  for (let i = 0; i < length; i++) x[i] = prng.uniform(1) * (i % 53 === 0 ? 20 : 1);
  x.fill(0, 256, 512); // an all-zero Q8_K block and eight Q8_0 blocks
  return x;
}

for (const type of ["Q8_0", "Q8_1", "Q8_K", "F16"] as VecDotType[]) {
  Deno.test({
    name: `roundActivations() gives the values ggml's ${type} converter produces`,
    ignore: ggml === null,
    fn() {
      const x = activationRow(2048, 3);
      const ours = new Float32Array(x.length);
      roundActivations(type, x, ours);
      const blocks = ggml!.fromFloat(ggmlType(type).id, x);
      const theirs = new Float32Array(x.length);
      // Q8_1 and Q8_K values are d·q like Q8_0's; decode them with the matching layout
      decode(type, blocks, theirs);
      for (let i = 0; i < x.length; i++) {
        assert.equal(ours[i], theirs[i], `value ${i} of ${x[i]}`);
      }
    },
  });
}

/** d·q for each value of ggml's converted blocks. */
function decode(type: VecDotType, blocks: Uint8Array, out: Float32Array): void {
  if (type === "F16" || type === "Q8_0") return quantFormat(type).dequantize(blocks, out);
  const view = new DataView(blocks.buffer);
  const info = ggmlType(type);
  const qs = info.fields.find((f) => f.name === "qs")!.offset;
  for (let b = 0; b < out.length / info.blockSize; b++) {
    const at = b * info.bytesPerBlock;
    const d = type === "Q8_K" ? view.getFloat32(at, true) : view.getFloat16(at, true);
    for (let j = 0; j < info.blockSize; j++) {
      out[b * info.blockSize + j] = d * view.getInt8(at + qs + j);
    }
  }
}

Deno.test({
  name: "roundActivations() gives the error of the block sums ggml's Q8_1 converter stores",
  ignore: ggml === null,
  fn() {
    const x = activationRow(2048, 5);
    const rounded = new Float32Array(x.length);
    const sumErrors = new Float32Array(x.length / 32);
    roundActivations("Q8_1", x, rounded, sumErrors);
    const blocks = ggml!.fromFloat(ggmlType("Q8_1").id, x);
    const view = new DataView(blocks.buffer);
    const { bytesPerBlock } = ggmlType("Q8_1");
    const s = ggmlType("Q8_1").fields.find((f) => f.name === "s")!.offset;
    let nonZero = 0;
    for (let b = 0; b < sumErrors.length; b++) {
      const exact = rounded.subarray(b * 32, (b + 1) * 32).reduce((sum, v) => sum + v, 0);
      const stored = view.getFloat16(b * bytesPerBlock + s, true);
      assert.equal(exact + sumErrors[b]!, stored, `block ${b}`);
      if (sumErrors[b] !== 0) nonZero++;
    }
    assert.ok(nonZero > sumErrors.length / 2, "most stored sums are rounded");
  },
});

Deno.test("roundToF16() rounds every kind of f32 as Math.f16round does", () => {
  const count = 100_000;
  const x = new Float32Array(count);
  const bits = new Uint32Array(x.buffer);
  const prng = new Prng(21);
  for (let i = 0; i < count; i++) bits[i] = prng.nextU32();
  // ties, the overflow edge, subnormal halves, signed zeros and the specials
  x.set([65504, 65519.99, 65520, -65520, 1.00048828125, 1.00146484375, 6.1e-5, 2.98e-8, -2.99e-8]);
  x.set([-0, 0, Infinity, -Infinity, NaN], 9);
  const expected = Float32Array.from(x, (value) => Math.f16round(value));
  roundToF16(x, count);
  for (let i = 0; i < count; i++) {
    // NaN payloads may differ
    const same = Object.is(x[i], expected[i]) || (Number.isNaN(x[i]) && Number.isNaN(expected[i]));
    assert.ok(same, `bits ${bits[i]!.toString(16)}: ${x[i]} vs ${expected[i]}`);
  }
});
