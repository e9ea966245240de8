/**
 * Every format's reference decoder against ggml's own (through FFI on node-llama-cpp's
 * libggml-base): blocks made by ggml's quantizer, and random blocks with sane scales, must decode
 * to the same f32 bits.
 */
import assert from "node:assert/strict";
import { FORMATS } from "./registry.ts";
import { elementCount, FIELD_KIND_BYTES, tensorByteSize } from "./types.ts";
import { loadGgml, unitImportance } from "../../peers/llama_cpp/ggml.ts";
import { Prng } from "../synth/prng.ts";

const ggml = await loadGgml().catch((error) => {
  console.warn(`ggml oracle unavailable, its tests are skipped: ${error.message}`);
  return null;
});

const ROW = 512;
const ROWS = 8;

/** Where two decodings first differ, bit for bit (so -0 and 0, or NaN payloads, count). */
function firstDifference(ours: Float32Array, theirs: Float32Array): number {
  const a = new Uint32Array(ours.buffer);
  const b = new Uint32Array(theirs.buffer);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** Random block bytes whose f16 scale fields hold finite values of moderate size. */
function randomBlocks(format: (typeof FORMATS)[number], seed: number): Uint8Array {
  const prng = new Prng(seed);
  const bytes = new Uint8Array(tensorByteSize(format.type, [ROW, ROWS]));
  for (let i = 0; i < bytes.length; i++) bytes[i] = prng.nextU32() & 0xff;
  const view = new DataView(bytes.buffer);
  const halves = format.type.fields.filter((f) => f.kind === "f16");
  for (let block = 0; block < bytes.length / format.type.bytesPerBlock; block++) {
    for (const field of halves) {
      for (let k = 0; k < field.count; k++) {
        const at = block * format.type.bytesPerBlock + field.offset + k * FIELD_KIND_BYTES.f16;
        view.setFloat16(at, prng.uniform(2), true);
      }
    }
  }
  return bytes;
}

for (const format of FORMATS.filter((f) => f.type.name !== "F32")) {
  const name = format.type.name;
  const count = elementCount([ROW, ROWS]);

  Deno.test({
    name: `dequantize() equals ggml's decoder for ${name} blocks made by ggml's quantizer`,
    ignore: ggml === null,
    fn() {
      const prng = new Prng(11);
      const values = new Float32Array(count);
      for (let i = 0; i < count; i++) values[i] = prng.uniform(1) * (i % 97 === 0 ? 8 : 1);
      const blocks = ggml!.quantize(
        format.type.id,
        values,
        ROWS,
        ROW,
        unitImportance(ggml!, format.type.id, ROW),
      );
      const ours = new Float32Array(count);
      format.dequantize(blocks, ours);
      const theirs = ggml!.dequantize(name, blocks, count);
      const at = firstDifference(ours, theirs);
      assert.equal(at, -1, `value ${at}: ours ${ours[at]}, ggml ${theirs[at]}`);
      // and the decoded values are near what was quantized (a sanity check of the oracle): even
      // the 1.56-bit IQ1_S keeps the error under half the values' power
      const error = ours.reduce((sum, v, i) => sum + (v - values[i]!) ** 2, 0);
      const power = values.reduce((sum, v) => sum + v * v, 0);
      assert.ok(error < 0.5 * power, `${name} relative squared error ${error / power}`);
    },
  });

  if (format.type.quantized) {
    Deno.test({
      name: `dequantize() equals ggml's decoder for random ${name} blocks`,
      ignore: ggml === null,
      fn() {
        const blocks = randomBlocks(format, 5);
        const ours = new Float32Array(count);
        format.dequantize(blocks, ours);
        const theirs = ggml!.dequantize(name, blocks, count);
        const at = firstDifference(ours, theirs);
        assert.equal(at, -1, `value ${at}: ours ${ours[at]}, ggml ${theirs[at]}`);
      },
    });
  }
}
