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
import { loadGgml, unitImportance } from "../../../peers/llama_cpp/ggml.ts";
import { ggmlType } from "../../quant/types.ts";
import { Prng } from "../../synth/prng.ts";
import {
  allocMatVecArena,
  quantizedTile,
  TILE_ROWS,
  TIMED_COLS,
  timeReads,
  timeTypeMatVec,
} from "./bandwidth.ts";
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

const ggml = await loadGgml().catch(() => null);
if (args.variant !== "relaxed" && args.variant !== "simd128") {
  throw new Error(`--variant must be relaxed or simd128, not ${args.variant}`);
}
const { heap, pool: threadPool } = await startThreads(threads, args.variant);
await using pool = threadPool;
const prng = new Prng(1);
const arena = allocMatVecArena(heap, MATRIX_BYTES, prng);

// plain reads of the whole GiB: the bandwidth kernels are measured against
const read = timeReads(pool, arena.matrix, MATRIX_BYTES, arena.output, reps);
console.log(
  `${args.variant} kernels; memory read (SIMD loads, ${threads} thread${
    threads > 1 ? "s" : ""
  }, 1 GiB): ` +
    `best ${read.best.toFixed(2)} GB/s, median ${read.median.toFixed(2)} GB/s`,
);
console.log("type     GB/s best  median  of read bandwidth");
const types = args.types?.split(",") ?? Object.keys(TYPE_KERNELS);
const unknown = types.filter((type) => !(type in TYPE_KERNELS));
if (unknown.length > 0) throw new Error(`--types: no CPU kernel for ${unknown.join(", ")}`);
for (const typeName of types) {
  const type = ggmlType(typeName);
  const tile = ggml
    ? ggml.quantize(
      type.id,
      Float32Array.from({ length: TILE_ROWS * TIMED_COLS }, () => prng.uniform(1)),
      TILE_ROWS,
      TIMED_COLS,
      unitImportance(ggml, type.id, TIMED_COLS),
    )
    : quantizedTile(typeName, prng);
  if (!tile) {
    console.log(`${typeName.padEnd(8)} skipped (no quantizer here without llama.cpp)`);
    continue;
  }
  const rate = timeTypeMatVec(pool, heap, arena, typeName, tile, reps);
  console.log(
    `${typeName.padEnd(8)} ${rate.best.toFixed(2).padStart(9)} ${
      rate.median.toFixed(2).padStart(7)
    }` +
      `  ${(100 * rate.median / read.median).toFixed(0).padStart(5)} %`,
  );
}
