import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { loadGgml } from "../../../peers/llama_cpp/ggml.ts";
import { ReferenceMatrix } from "../../model/matrix.ts";
import { vecDotType } from "../../quant/activations.ts";
import { quantFormat } from "../../quant/registry.ts";
import { ggmlType, rowByteSize } from "../../quant/types.ts";
import { Prng } from "../../synth/prng.ts";
import { CpuBackend } from "./backend.ts";
import { CONVERT_KERNELS, instantiateKernels, kernelModule, MATVEC_KERNELS } from "./kernels.ts";

const ggml = await loadGgml().catch((error) => {
  console.warn(`ggml oracle unavailable, CPU kernel tests are skipped: ${error.message}`);
  return null;
});

const here = fileURLToPath(new URL(".", import.meta.url));
const clang = await new Deno.Command("clang-19", { args: ["--version"] }).output().then(
  (result) => result.success,
  () => false,
);
if (!clang) console.warn("clang-19 not installed: the kernels.wasm build check is skipped");

Deno.test({
  name: "the committed kernels.wasm is what build.sh makes from the C sources",
  ignore: !clang,
  async fn() {
    const out = await Deno.makeTempFile({ suffix: ".wasm" });
    try {
      const build = await new Deno.Command(`${here}/build.sh`, { args: [out] }).output();
      assert.ok(build.success, new TextDecoder().decode(build.stderr));
      assert.deepStrictEqual(
        await Deno.readFile(out),
        await Deno.readFile(`${here}/kernels.wasm`),
        "kernels.wasm is stale: run engine/backend/cpu/build.sh and commit it",
      );
    } finally {
      await Deno.remove(out);
    }
  },
});

/** Activations like a transformer's: mostly small, a few outliers. */
function activations(length: number, seed: number): Float32Array {
  const prng = new Prng(seed);
  return Float32Array.from({ length }, (_, i) => prng.uniform(1) * (i % 37 === 0 ? 12 : 1));
}

for (const [type, convert] of Object.entries(CONVERT_KERNELS)) {
  Deno.test({
    name: `${convert} converts an activation row exactly as ggml's ${type} converter`,
    ignore: ggml === null,
    async fn() {
      const memory = new WebAssembly.Memory({ initial: 32, maximum: 65536, shared: true });
      const kernels = await instantiateKernels(await kernelModule(), memory, null);
      const x = activations(1024, 7);
      x.fill(0, 256, 512); // all-zero blocks
      const expected = ggml!.fromFloat(ggmlType(type).id, x);
      const input = kernels.heapBase;
      const output = input + 4 * x.length;
      new Float32Array(memory.buffer, input, x.length).set(x);
      kernels.exports[convert]!(input, output, x.length);
      assert.deepStrictEqual(new Uint8Array(memory.buffer, output, expected.length), expected);
    },
  });
}

Deno.test({
  name: "every weight type's SIMD mat-vec equals the reference mat-vec, on 1 and 2 threads",
  ignore: ggml === null,
  async fn() {
    // 37 rows: nine groups of four and a remainder; 512 columns: two K-quant super-blocks
    const rows = 37;
    const cols = 512;
    const prng = new Prng(11);
    const values = Float32Array.from({ length: rows * cols }, () => prng.uniform(1));
    const x = activations(cols, 3);
    for (const threads of [1, 2]) {
      await using cpu = await CpuBackend.create({ threads });
      for (const typeName of Object.keys(MATVEC_KERNELS)) {
        const type = ggmlType(typeName);
        const bytes = ggml!.quantize(type.id, values, rows, cols);
        assert.equal(bytes.length, rows * rowByteSize(type, cols));
        const format = quantFormat(typeName);
        const reference = new ReferenceMatrix(format, rows, cols, bytes, vecDotType(typeName));
        const fast = await cpu.matrix(format, rows, cols, bytes.length, (into, at) => {
          into.set(bytes.subarray(at, at + into.length));
          return Promise.resolve();
        });
        const expected = new Float32Array(rows);
        const actual = new Float32Array(rows);
        reference.matVec(x, expected);
        fast.matVec(x, actual);
        for (let r = 0; r < rows; r++) {
          // the same products, summed in another order: f32 rounding of a ~±20 sum of 512 terms
          assert.ok(
            Math.abs(actual[r]! - expected[r]!) <= 2e-5 * (1 + Math.abs(expected[r]!)) * 8,
            `${typeName}, ${threads} threads, row ${r}: ${actual[r]} vs ${expected[r]}`,
          );
        }
      }
    }
  },
});

Deno.test("a slice of a CPU matrix multiplies its own rows (an expert of a stacked tensor)", async () => {
  await using cpu = await CpuBackend.create({ threads: 2 });
  const rows = 48;
  const cols = 64;
  const prng = new Prng(5);
  const values = Float32Array.from({ length: rows * cols }, () => prng.uniform(1));
  const bytes = new Uint8Array(values.buffer);
  const matrix = await cpu.matrix(quantFormat("F32"), rows, cols, bytes.length, (into, at) => {
    into.set(bytes.subarray(at, at + into.length));
    return Promise.resolve();
  });
  const x = activations(cols, 1);
  const all = new Float32Array(rows);
  const third = new Float32Array(rows / 3);
  matrix.matVec(x, all);
  matrix.slice(2, 3).matVec(x, third);
  assert.deepStrictEqual(third, all.subarray(32));
});
