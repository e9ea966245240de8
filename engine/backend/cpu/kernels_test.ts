import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { loadGgml, unitImportance } from "../../../peers/llama_cpp/ggml.ts";
import { ReferenceMatrix } from "../../model/matrix.ts";
import { vecDotType } from "../../quant/activations.ts";
import { quantFormat, quantizer } from "../../quant/registry.ts";
import { ggmlType, rowByteSize } from "../../quant/types.ts";
import { Prng } from "../../synth/prng.ts";
import { CpuBackend } from "./backend.ts";
import {
  bestKernelVariant,
  GGML_ACTIVATIONS,
  instantiateKernels,
  kernelModule,
  type KernelVariant,
  Q8_0_SUMMED,
  TYPE_KERNELS,
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
      // build.sh writes the i-quants' grids with Deno first: this one
      const build = await new Deno.Command(`${here}/build.sh`, {
        args: [out],
        env: { DENO: Deno.execPath() },
      }).output();
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

/** `convert`'s output for 1024 activations like a transformer's, some blocks all zero. */
async function converted(convert: string, bytes: number) {
  const memory = new WebAssembly.Memory({ initial: 32, maximum: 65536, shared: true });
  const kernels = await instantiateKernels(await kernelModule("simd128"), memory, null);
  const x = activations(1024, 7);
  x.fill(0, 256, 512);
  const input = kernels.heapBase;
  const output = input + 4 * x.length;
  new Float32Array(memory.buffer, input, x.length).set(x);
  kernels.exports[convert]!(input, output, x.length);
  return { x, output: new Uint8Array(memory.buffer, output, bytes) };
}

for (const [type, { convert }] of Object.entries(GGML_ACTIVATIONS)) {
  Deno.test({
    name: `${convert} converts an activation row exactly as ggml's ${type} converter`,
    ignore: ggml === null,
    async fn() {
      const { x, output } = await converted(convert, rowByteSize(ggmlType(type), 1024));
      assert.deepStrictEqual(output, ggml!.fromFloat(ggmlType(type).id, x));
    },
  });
}

Deno.test({
  name: "quantize_q8_0_summed holds ggml's Q8_0 values, the scale as f32, and Σq of each block",
  ignore: ggml === null,
  async fn() {
    const { blockValues, blockBytes } = Q8_0_SUMMED;
    const { x, output } = await converted(Q8_0_SUMMED.convert, (1024 / blockValues) * blockBytes);
    const expected = ggml!.fromFloat(ggmlType("Q8_0").id, x);
    const summed = new DataView(output.buffer, output.byteOffset, output.length);
    const q8 = new DataView(expected.buffer, expected.byteOffset, expected.length);
    for (let b = 0; b < 1024 / blockValues; b++) {
      const at = b * blockBytes;
      const quants = new Int8Array(expected.buffer, expected.byteOffset + b * 34 + 2, 32);
      assert.equal(summed.getFloat32(at, true), q8.getFloat16(b * 34, true), `block ${b} scale`);
      assert.equal(summed.getInt32(at + 4, true), quants.reduce((sum, q) => sum + q, 0));
      assert.deepStrictEqual(new Int8Array(output.buffer, output.byteOffset + at + 8, 32), quants);
    }
  },
});

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
        for (const typeName of Object.keys(TYPE_KERNELS)) {
          const type = ggmlType(typeName);
          const bytes = ggml!.quantize(
            type.id,
            values,
            rows,
            cols,
            unitImportance(ggml!, type.id, cols),
          );
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

Deno.test("a slice of a CPU matrix multiplies its own rows (an expert of a stacked tensor); on the backend's own buffers (in place) as through copies", async () => {
  await using cpu = await CpuBackend.create({ threads: 2 });
  const rows = 48;
  const cols = 64;
  const prng = new Prng(5);
  const values = Float32Array.from({ length: rows * cols }, () => prng.uniform(1));
  const matrix = await cpuMatrix(cpu, "F32", rows, cols, new Uint8Array(values.buffer));
  const x = activations(cols, 1);
  const all = new Float32Array(rows);
  const third = new Float32Array(rows / 3);
  matrix.matVec(x, all);
  matrix.slice(2, 3).matVec(x, third);
  assert.deepStrictEqual(third, all.subarray(32));
  const ownX = cpu.floats(cols);
  const ownOut = cpu.floats(rows);
  ownX.set(x);
  matrix.matVec(ownX, ownOut);
  assert.deepStrictEqual(ownOut, all);
});

/** A CPU matrix of `bytes`, read as a file's tensor would be. */
function cpuMatrix(cpu: CpuBackend, type: string, rows: number, cols: number, bytes: Uint8Array) {
  return cpu.matrix(quantFormat(type), rows, cols, bytes.length, (into, at) => {
    into.set(bytes.subarray(at, at + into.length));
    return Promise.resolve();
  });
}

for (const [type, { interleave }] of Object.entries(TYPE_KERNELS)) {
  if (!interleave) continue;
  Deno.test(`${type} rows interleaved in fours decode, slice and multiply as the plain rows`, async () => {
    await using cpu = await CpuBackend.create({ threads: 2 });
    const cols = 64;
    const rowBytes = rowByteSize(ggmlType(type), cols);
    const prng = new Prng(9);
    const values = Float32Array.from({ length: 38 * cols }, () => prng.uniform(1));
    const bytes = new Uint8Array(38 * rowBytes);
    quantizer(type).quantize(values, bytes);
    // 37 rows: nine groups and a plain row; 32 rows: eight slices of four
    for (const rows of [37, 32]) {
      const plain = bytes.subarray(0, rows * rowBytes);
      const reference = new ReferenceMatrix(quantFormat(type), rows, cols, plain, vecDotType(type));
      const matrix = await cpuMatrix(cpu, type, rows, cols, plain);
      const expected = new Float32Array(cols);
      const decoded = new Float32Array(cols);
      for (let row = 0; row < rows; row++) {
        reference.decodeRow(row, expected);
        matrix.decodeRow(row, decoded);
        assert.deepStrictEqual(decoded, expected, `${rows} rows: row ${row}`);
      }
      const x = activations(cols, 2);
      const all = new Float32Array(rows);
      matrix.matVec(x, all);
      if (rows === 32) {
        const slice = new Float32Array(4);
        matrix.slice(5, 8).matVec(x, slice);
        assert.deepStrictEqual(slice, all.subarray(20, 24));
        matrix.slice(5, 8).decodeRow(1, decoded);
        reference.decodeRow(21, expected);
        assert.deepStrictEqual(decoded, expected);
        assert.throws(() => matrix.slice(1, 16), /interleaved in fours/);
      }
    }
  });
}

Deno.test("Q4_0 scales that are subnormal, negative, infinite or NaN: finite as the reference, else not", async () => {
  await using cpu = await CpuBackend.create({ threads: 1 });
  const cols = 32;
  const scales = [0x0001, 0x03ff, 0xbc00, 0x7c00, 0xfc00, 0x7e00, 0x3555, 0x8001];
  const bytes = new Uint8Array(scales.length * 18);
  scales.forEach((scale, row) => {
    new DataView(bytes.buffer).setUint16(row * 18, scale, true);
    for (let j = 0; j < 16; j++) bytes[row * 18 + 2 + j] = (j * 37 + row) & 0xff;
  });
  const reference = new ReferenceMatrix(quantFormat("Q4_0"), scales.length, cols, bytes, "Q8_0");
  const matrix = await cpuMatrix(cpu, "Q4_0", scales.length, cols, bytes);
  const x = activations(cols, 4);
  const expected = new Float32Array(scales.length);
  const actual = new Float32Array(scales.length);
  reference.matVec(x, expected);
  matrix.matVec(x, actual);
  for (let row = 0; row < scales.length; row++) {
    const [a, e] = [actual[row]!, expected[row]!];
    // an infinite scale times the integer sum (as ggml) is ±∞; the reference's per-value
    // products (∞·0 among them) make NaN
    const same = Number.isFinite(e) ? Math.abs(a - e) <= 1e-6 * Math.abs(e) : !Number.isFinite(a);
    assert.ok(same, `scale 0x${scales[row]!.toString(16)}: ${a} vs ${e}`);
  }
});
