/**
 * `deno task bench:kernels`: GB/s of every format's mat-vec kernel on a 1 GiB matrix (far beyond
 * the last-level cache, so every token's weights come from RAM), beside what plain SIMD reads of
 * the same bytes reach on the same threads: the ratio says how close a kernel is to the memory
 * bandwidth that bounds decode speed.
 *
 *     deno task bench:kernels [--threads N] [--reps N] [--variant relaxed|simd128] [--types Q4_0,…]
 * @module
 */
import { parseArgs } from "node:util";
import { loadGgml } from "../../../peers/llama_cpp/ggml.ts";
import { quantizer } from "../../quant/registry.ts";
import { ggmlType, rowByteSize } from "../../quant/types.ts";
import { Prng } from "../../synth/prng.ts";
import { timeMatVec, timeReads } from "./bandwidth.ts";
import { bestKernelVariant, TYPE_KERNELS } from "./kernels.ts";
import { startThreads } from "./pool.ts";

const { values: args } = parseArgs({
  options: {
    threads: { type: "string", default: String(navigator.hardwareConcurrency) },
    reps: { type: "string", default: "5" },
    variant: { type: "string", default: bestKernelVariant() },
    types: { type: "string" },
  },
});
const threads = Number(args.threads);
const reps = Number(args.reps);
const MATRIX_BYTES = 1 << 30;
const COLS = 4096;
/** Real blocks of each type, tiled over the matrix (random bytes would hold NaN/denormal scales). */
const TILE_ROWS = 64;

const ggml = await loadGgml().catch(() => null);
if (args.variant !== "relaxed" && args.variant !== "simd128") {
  throw new Error(`--variant must be relaxed or simd128, not ${args.variant}`);
}
const { heap, pool: threadPool } = await startThreads(threads, args.variant);
await using pool = threadPool;
const matrix = heap.alloc(MATRIX_BYTES);
const input = heap.alloc(4 * COLS);
const activations = heap.alloc(4 * COLS);
/** Four rows of the widest type: the scratch of the kernels that interleave rows at load. */
const interleaveScratch = heap.alloc(4 * 4 * COLS);
const output = heap.alloc(4 * (MATRIX_BYTES / 64));

// plain reads of the whole GiB: the bandwidth kernels are measured against
heap.bytes(matrix, MATRIX_BYTES).fill(1);
const read = timeReads(pool, matrix, MATRIX_BYTES, output, reps);
console.log(
  `${args.variant} kernels; memory read (SIMD loads, ${threads} thread${
    threads > 1 ? "s" : ""
  }, 1 GiB): ` +
    `best ${read.best.toFixed(2)} GB/s, median ${read.median.toFixed(2)} GB/s`,
);
console.log("type     GB/s best  median  of read bandwidth");
const prng = new Prng(1);
const x = Float32Array.from({ length: COLS }, () => prng.uniform(1));
heap.f32(input, COLS).set(x);
const types = args.types?.split(",") ?? Object.keys(TYPE_KERNELS);
const unknown = types.filter((type) => !(type in TYPE_KERNELS));
if (unknown.length > 0) throw new Error(`--types: no CPU kernel for ${unknown.join(", ")}`);
for (const typeName of types) {
  const kernels = TYPE_KERNELS[typeName]!;
  const type = ggmlType(typeName);
  const rowBytes = rowByteSize(type, COLS);
  const values = Float32Array.from({ length: TILE_ROWS * COLS }, () => prng.uniform(1));
  const tile = ggml
    ? ggml.quantize(type.id, values, TILE_ROWS, COLS)
    : tryQuantize(typeName, values);
  if (!tile) {
    console.log(`${typeName.padEnd(8)} skipped (no quantizer here without llama.cpp)`);
    continue;
  }
  const rows = Math.floor(MATRIX_BYTES / rowBytes / TILE_ROWS) * TILE_ROWS;
  const bytes = heap.bytes(matrix, rows * rowBytes);
  for (let at = 0; at < bytes.length; at += tile.length) bytes.set(tile, at);
  if (kernels.interleave) {
    pool.kernels.exports[kernels.interleave.rows]!(matrix, TILE_ROWS, COLS, interleaveScratch);
    for (let at = tile.length; at < bytes.length; at += tile.length) {
      bytes.copyWithin(at, 0, tile.length);
    }
  }
  const convert = kernels.activations?.convert;
  if (convert) pool.kernels.exports[convert]!(input, activations, COLS);
  const from = convert ? activations : input;
  const rate = timeMatVec(pool, kernels.matMul, matrix, rowBytes, rows, COLS, from, output, reps);
  console.log(
    `${typeName.padEnd(8)} ${rate.best.toFixed(2).padStart(9)} ${
      rate.median.toFixed(2).padStart(7)
    }` +
      `  ${(100 * rate.median / read.median).toFixed(0).padStart(5)} %`,
  );
}

function tryQuantize(typeName: string, values: Float32Array): Uint8Array | null {
  try {
    const format = quantizer(typeName);
    const out = new Uint8Array(rowByteSize(ggmlType(typeName), values.length));
    format.quantize(values, out);
    return out;
  } catch {
    return null;
  }
}
