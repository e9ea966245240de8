import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { loadGgml } from "../../../peers/llama_cpp/ggml.ts";
import { ReferenceMatrix } from "../../model/matrix.ts";
import { vecDotType } from "../../quant/activations.ts";
import { quantFormat } from "../../quant/registry.ts";
import { ggmlType, rowByteSize } from "../../quant/types.ts";
import { Prng } from "../../synth/prng.ts";
import { CpuBackend } from "./backend.ts";
import {
  bestKernelVariant,
  CONVERT_KERNELS,
  instantiateKernels,
  kernelModule,
  type KernelVariant,
  MATVEC_KERNELS,
} from "./kernels.ts";

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
  name: "the committed kernel modules are what build.sh makes from the C sources",
  ignore: !clang,
  async fn() {
    const out = await Deno.makeTempDir();
    try {
      const build = await new Deno.Command(`${here}/build.sh`, { args: [out] }).output();
      assert.ok(build.success, new TextDecoder().decode(build.stderr));
      for (const file of ["kernels.wasm", "kernels_relaxed.wasm"]) {
        assert.deepStrictEqual(
          await Deno.readFile(`${out}/${file}`),
          await Deno.readFile(`${here}/${file}`),
          `${file} is stale: run engine/backend/cpu/build.sh and commit it`,
        );
      }
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

const VARIANTS: readonly KernelVariant[] = bestKernelVariant() === "relaxed"
  ? ["simd128", "relaxed"]
  : ["simd128"];
if (VARIANTS.length === 1) {
  console.warn("this runtime has no relaxed SIMD: its kernels are not tested");
}

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
      const kernels = await instantiateKernels(await kernelModule("simd128"), memory, null);
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
  name: "every weight type's SIMD mat-mul equals the reference mat-vec, per variant and thread " +
    "count; a batch equals its rows one by one, and the variants agree bit for bit",
  ignore: ggml === null,
  async fn() {
    // 37 rows: nine groups of four and a remainder; 512 columns: two K-quant super-blocks
    const rows = 37;
    const cols = 512;
    const tokens = 5;
    const prng = new Prng(11);
    const values = Float32Array.from({ length: rows * cols }, () => prng.uniform(1));
    const x = activations(tokens * cols, 3);
    const results = new Map<string, Float32Array>();
    for (const variant of VARIANTS) {
      for (const threads of [1, 2]) {
        await using cpu = await CpuBackend.create({ threads, variant });
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
          const expected = new Float32Array(tokens * rows);
          const batched = new Float32Array(tokens * rows);
          const single = new Float32Array(tokens * rows);
          reference.matMul(x, tokens, expected);
          fast.matMul(x, tokens, batched);
          for (let t = 0; t < tokens; t++) {
            fast.matVec(x.subarray(t * cols), single.subarray(t * rows, (t + 1) * rows));
          }
          const where = `${typeName}, ${variant}, ${threads} threads`;
          assert.deepStrictEqual(batched, single, `${where}: a batch differs from its rows`);
          for (let i = 0; i < expected.length; i++) {
            // the same products, summed in another order: f32 rounding of a ~±20 sum of 512 terms
            assert.ok(
              Math.abs(batched[i]! - expected[i]!) <= 2e-5 * (1 + Math.abs(expected[i]!)) * 8,
              `${where}, value ${i}: ${batched[i]} vs ${expected[i]}`,
            );
          }
          const first = results.get(typeName);
          if (first) assert.deepStrictEqual(batched, first, `${where} differs from ${VARIANTS[0]}`);
          else results.set(typeName, batched);
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
