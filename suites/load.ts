/**
 * The `load` suite: how fast experts reach the memory that computes them. On the model file
 * itself: sequential reads (a model load), the model's own experts read at their real offsets in
 * random order (expert offloading), random reads of other sizes, and the latency distribution of
 * single expert loads — each cold (the file's pages dropped from the page cache first, checked)
 * and warm. Then host → GPU uploads of each size, where WebGPU finds an adapter.
 *
 * @example
 * ```ts ignore
 * import { loadTasks } from "./load.ts";
 * for (const task of loadTasks(model, STANDARD.load, 3)) console.log((await task.run()).tests);
 * ```
 * @module
 */
import { openGGUF } from "../engine/gguf/read.ts";
import { readConfig } from "../engine/model/config.ts";
import { ExpertStore } from "../engine/offload/store.ts";
import { dropPageCache } from "../engine/offload/page_cache.ts";
import { openGpu } from "../engine/backend/webgpu/device.ts";
import { Prng } from "../engine/synth/prng.ts";
import { shuffled } from "../profiles/probe/disk.ts";
import { type Piece, timedLoads } from "../util/timed_reads.ts";
import { type RequiredLabels, type TestRecord, testRecord, type Unit } from "./results.ts";
import { percentile } from "./stats.ts";
import type { BenchModel, Task } from "./task.ts";

/** What the load suite measures. */
export interface LoadOptions {
  /** Single-expert loads timed, cold and warm. */
  readonly expertLoads: number;
  /** Random-read (and upload) sizes besides the model's expert, in bytes. */
  readonly readSizes: readonly number[];
  /** Host → GPU uploads per size. */
  readonly uploads: number;
}

const SEQUENTIAL_READ = 4 << 20;
const MIB = 2 ** 20;

/** `256KiB`, `4MiB`, `1.27MiB`. */
export function sizeLabel(bytes: number): string {
  return bytes < MIB ? `${+(bytes / 1024).toFixed(2)}KiB` : `${+(bytes / MIB).toFixed(2)}MiB`;
}

/** The suite's tasks for `model`: the disk reads, then the uploads. */
export function loadTasks(model: BenchModel, options: LoadOptions, repetitions: number): Task[] {
  return [
    {
      id: `load/${model.id}/disk`,
      label: `load: ${model.id} from disk`,
      run: async () => ({ tests: await diskRecords(model, options, repetitions), peers: [] }),
    },
    {
      id: `load/${model.id}/gpu`,
      label: `load: uploads to the GPU`,
      run: async () => ({ tests: await uploadRecords(model, options), peers: [] }),
    },
  ];
}

/** Each expert's pieces in the file, all layers, in a fixed random order. */
async function expertLoads(path: string): Promise<{ loads: Piece[][]; expertBytes: number }> {
  using gguf = await openGGUF(path);
  const store = ExpertStore.fromGGUF(gguf, readConfig(gguf));
  const all: Piece[][] = [];
  for (const layer of store.layers) {
    if (!layer) continue;
    for (let expert = 0; expert < store.experts; expert++) {
      all.push(
        layer.parts.map((p) => ({ offset: p.fileOffset + expert * p.bytes, length: p.bytes })),
      );
    }
  }
  if (all.length === 0) throw new RangeError(`${path} has no routed experts to load`);
  const order = shuffled(all.length, new Prng(1));
  const expertBytes = Math.max(...all.map((load) => load.reduce((n, p) => n + p.length, 0)));
  return { loads: order.map((i) => all[i]!), expertBytes };
}

/** Records of the disk tests (GB/s per repetition, ms per expert load). */
async function diskRecords(
  model: BenchModel,
  options: LoadOptions,
  repetitions: number,
): Promise<TestRecord[]> {
  const path = model.path;
  const { loads, expertBytes } = await expertLoads(path);
  const drops: string[] = [];
  const cold = () => {
    const drop = dropPageCache(path);
    if (!drop.dropped) drops.push(drop.reason);
  };
  const gbps = (loads: Piece[][], seconds: number[]) =>
    loads.flat().reduce((n, p) => n + p.length, 0) / seconds.reduce((a, b) => a + b, 0) / 1e9;
  const sequential = Array.from(
    { length: Math.floor(model.bytes / SEQUENTIAL_READ) },
    (_, i) => [{ offset: i * SEQUENTIAL_READ, length: SEQUENTIAL_READ }],
  );
  /** cold and warm GB/s of `reads`, `repetitions` times. */
  const coldWarm = async (reads: Piece[][]) => {
    const rates = { cold: [] as number[], warm: [] as number[] };
    for (let rep = 0; rep < repetitions; rep++) {
      cold();
      rates.cold.push(gbps(reads, await timedLoads(path, reads)));
      rates.warm.push(gbps(reads, await timedLoads(path, reads)));
    }
    return rates;
  };
  // half the experts: a pass never reads one twice, and the rest of the file stays unread
  const expertReads = loads.slice(0, Math.max(1, loads.length >> 1));
  const rates = new Map<string, { cold: number[]; warm: number[] }>([
    ["seq_read", await coldWarm(sequential)],
    [`expert_read_${sizeLabel(expertBytes)}`, await coldWarm(expertReads)],
  ]);
  for (const size of options.readSizes) {
    const pieces = Math.floor(model.bytes / size);
    if (pieces < 2) continue;
    const reads = shuffled(pieces, new Prng(size)).slice(0, Math.max(1, Math.min(64, pieces >> 1)))
      .map((piece) => [{ offset: piece * size, length: size }]);
    rates.set(`rand_read_${sizeLabel(size)}`, await coldWarm(reads));
  }
  cold();
  const single = loads.slice(0, options.expertLoads);
  const latencies = {
    cold: (await timedLoads(path, single)).map((s) => s * 1000),
    warm: (await timedLoads(path, single)).map((s) => s * 1000),
  };
  const details = {
    cold_verified: drops.length === 0,
    cold_failure: drops[0] ?? null,
    expert_bytes: expertBytes,
  };
  const labels = (test: string, config: string, unit: Unit): RequiredLabels => ({
    task: `load/${model.id}/disk`,
    suite: "load",
    test,
    model: model.id,
    type: model.type,
    config,
    unit,
  });
  const records: TestRecord[] = [];
  for (const [test, { cold, warm }] of rates) {
    records.push(testRecord(labels(test, "cold", "GB/s"), cold, { details }));
    records.push(testRecord(labels(test, "warm", "GB/s"), warm, { details }));
  }
  for (const [config, samples] of Object.entries(latencies)) {
    records.push(testRecord(labels("expert_load", config, "ms"), samples, {
      details: { ...details, ...latencyPercentiles(samples) },
    }));
  }
  return records;
}

/** p50, p95 and p99 of `samples`. */
function latencyPercentiles(samples: readonly number[]) {
  return {
    p50: percentile(samples, 0.5),
    p95: percentile(samples, 0.95),
    p99: percentile(samples, 0.99),
  };
}

/**
 * Host → GPU uploads (`queue.writeBuffer`, as offloaded experts travel) of the model's expert
 * size and each read size: GB/s of each upload, timed to completion. None without an adapter.
 */
async function uploadRecords(model: BenchModel, options: LoadOptions): Promise<TestRecord[]> {
  const gpu = await openGpu();
  if ("unavailable" in gpu) return [];
  const { expertBytes } = await expertLoads(model.path);
  const device = gpu.device;
  try {
    const sizes = [expertBytes, ...options.readSizes].filter((size) =>
      size <= device.limits.maxBufferSize
    );
    const records: TestRecord[] = [];
    for (const size of sizes) {
      const aligned = Math.ceil(size / 4) * 4;
      const buffer = device.createBuffer({
        size: aligned,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
      });
      const bytes = new Uint8Array(aligned).fill(7);
      const rates: number[] = [];
      for (let i = 0; i <= options.uploads; i++) {
        const start = performance.now();
        device.queue.writeBuffer(buffer, 0, bytes);
        await device.queue.onSubmittedWorkDone();
        const seconds = (performance.now() - start) / 1000;
        if (i > 0) rates.push(aligned / seconds / 1e9); // the first warms up
      }
      buffer.destroy();
      records.push(testRecord(
        {
          task: `load/${model.id}/gpu`,
          suite: "load",
          test: `upload_${sizeLabel(size)}`,
          model: model.id,
          type: model.type,
          backend: "webgpu",
          config: "host to gpu",
          unit: "GB/s",
        },
        rates,
        {
          warmup: 1,
          details: { adapter: gpu.info.description, fallback: gpu.info.fallback },
        },
      ));
    }
    return records;
  } finally {
    device.destroy();
  }
}
