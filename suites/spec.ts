/**
 * The standardized benchmark's spec: what `moebench bench --suite standard` runs, fixed so that
 * results from different machines compare. The models are generated (`synth`: preset, type,
 * seed) on first use into the cache folder and checked against the SHA-256 recorded here, so
 * every machine times the same bytes; token sequences, repetitions, warm-up, budgets and the
 * headline score's formula are constants of the version. Changing any of them bumps `version`,
 * and results of different versions are never ranked together.
 *
 * @example
 * ```ts ignore
 * import { STANDARD, ensureSpecModel } from "./spec.ts";
 * const model = await ensureSpecModel(STANDARD.models.main);
 * console.log(model.path, model.sha256);
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { synthesize } from "../engine/synth/synth.ts";
import { cacheDir } from "../util/cache_dir.ts";

/** A generated model of the spec: `synth --preset P --type T --seed S`, and its hash. */
export interface SpecModel {
  readonly id: string;
  readonly preset: string;
  readonly type: "F16" | "Q8_0" | "Q4_0";
  readonly seed: number;
  readonly bytes: number;
  readonly sha256: string;
}

const specModel = (
  preset: string,
  type: SpecModel["type"],
  bytes: number,
  sha256: string,
): SpecModel => ({ id: `${preset}-${type.toLowerCase()}`, preset, type, seed: 0, bytes, sha256 });

/**
 * The standard, version 2. (Version 1 timed exactly 8 repetitions of each tokens test; version 2
 * goes on past 8 until every test's coefficient of variation is at most 3.5 %, up to 32
 * repetitions or 30 s, and records which ended it.)
 */
export const STANDARD = {
  name: "moebench-standard",
  version: 2,
  models: {
    /** The MoE every speed test runs: 8 layers, 32 experts of 768, top-4, ~350 MB. */
    main: specModel(
      "moe-350m",
      "Q4_0",
      362_265_088,
      "146a5beecb8670d32a4abf0fdeac5ba196cb577e4b4effa4b433897d1ca21355",
    ),
    /** Quality: the F16 model, and the quantized variants measured against it. */
    qualityReference: specModel(
      "tiny-qwen3moe",
      "F16",
      27_889_888,
      "a1422f2f21c45241b55c45014c43522cf2740af10411d52eb7bbac1b4ea528e0",
    ),
    qualityVariants: [
      specModel(
        "tiny-qwen3moe",
        "Q8_0",
        14_864_608,
        "2b6e4703e4d0affc677d5db23fab0736b6012e2a48e1604677476dd21ceadff0",
      ),
      specModel(
        "tiny-qwen3moe",
        "Q4_0",
        7_917_792,
        "11377a1d0cb38f5b874415f9b04e576e1ec943bc928c697aee2fb2b97681f1c9",
      ),
    ],
  },
  tokens: {
    /** pp at these prompt lengths, each from an empty context (TTFT at each). */
    promptLengths: [16, 64, 256],
    /** tg: tokens decoded one at a time from an empty context. */
    genTokens: 64,
    /** At least this many timed repetitions, then on until steady (see `until`). */
    repetitions: 8,
    warmup: 1,
    until: { cv: 0.035, maxRepetitions: 32, maxSeconds: 30 },
    /** Offloaded runs: an LRU cache of this share of the expert bytes, prefetch depth 1. */
    offloadShare: 0.5,
  },
  load: {
    /** Single-expert loads timed, cold and warm (latency percentiles). */
    expertLoads: 64,
    /** Random-read sizes besides the model's own expert (bytes). */
    readSizes: [256 << 10, 4 << 20, 16 << 20],
    /** Host → GPU uploads per size. */
    uploads: 16,
  },
  cache: {
    /** Tokens decoded greedily while the engine records the routing. */
    traceTokens: 96,
    /** Shares of the expert bytes the simulated caches get. */
    budgets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
    policies: ["lru", "lfu", "fifo", "random", "belady"],
    /** Prefetch guessing recorded at these depths and experts per layer (k). */
    prefetch: { depths: [1, 2], experts: [4, 8] },
    /** Decode measured with the engine at these budgets (LRU, prefetch depth 1). */
    measuredBudgets: [0.25, 0.5, 0.75],
    genTokens: 32,
    repetitions: 3,
  },
  quality: {
    /** Perplexity chunks (llama-perplexity's `-c`), and how many. */
    ctx: 128,
    chunks: 6,
    /** The text: tokens of a fixed pseudo-random sequence (see `specText`). */
    textSeed: 7,
  },
  /**
   * The tokens the cpu backend decodes greedily in tg64 of the main model, and their hash
   * (`outputHash` of `tokens.ts`): a cpu run whose hash differs computed something else (a wrong
   * engine, a corrupted model) and is not ranked. Other backends sum in another order, so one
   * near-tie could send their greedy decode elsewhere: they are fed these tokens instead (teacher
   * forcing) and must pick the next one at `minAgreement` of the positions or more — a correct
   * engine misses only near-ties, a wrong one agrees nowhere.
   */
  expectedOutput: {
    model: "moe-350m-q4_0",
    test: "tg64",
    backend: "cpu",
    sha256: "d279179d1715c0d2e0ae1b2ffc22bfbfa5e3be5257627accb56cadb2368df6f4",
    /** The tokens, comma-separated (what `sha256` is the hash of). */
    tokens: "7912,1502,497,3329,5081,1340,6126,3290,1733,5331,5282,2945,6289,3859,958,5016," +
      "6427,8017,6249,131,7955,4164,7478,2939,4363,8030,6708,246,608,2058,5707,2479," +
      "2216,4434,7381,694,8017,6829,3222,6427,8017,4326,3806,1433,1147,6116,3979,3843," +
      "6807,194,2441,4884,988,7766,8106,2549,5538,3830,4920,6609,4948,3042,979,6392",
    minAgreement: 0.9,
  },
  score: {
    /**
     * The headline: 100 × the geometric mean of three medians, each divided by the reference
     * machine's figure (a 2 vCPU AMD EPYC VM with 24 GiB, the project's CI machine; cpu backend,
     * 2 threads): pp256 and tg64 resident, and tg64 offloaded at half the expert bytes. A
     * geometric mean so that no one figure dominates and a machine twice as fast at everything
     * scores twice as high (LocalScore's choice too).
     */
    reference: { pp256: 250, tg64: 200, tg64Offloaded: 100 },
  },
} as const;

/** The spec's name and version, as results files carry them. */
export const SPEC_ID = { name: STANDARD.name, version: STANDARD.version } as const;

/** The spec's model's path in the cache folder. */
export function specModelPath(model: SpecModel): string {
  return `${cacheDir()}/${STANDARD.name}-v${STANDARD.version}/${model.id}.gguf`;
}

/** A spec model on disk, checked. */
export interface ReadyModel {
  readonly model: SpecModel;
  readonly path: string;
  readonly sha256: string;
}

/** The generated file does not hash as the spec says: the generator changed, or the disk lies. */
export class SpecModelMismatch extends Error {
  override name = "SpecModelMismatch";
}

/**
 * The spec model, generated on first use (atomically) and checked by SHA-256 every time; a
 * cached file that does not match is generated again, and a fresh one that does not match is an
 * error (the generator changed: the spec's version must change with it).
 */
export async function ensureSpecModel(
  model: SpecModel,
  onProgress?: (done: number, total: number) => void,
): Promise<ReadyModel> {
  const path = specModelPath(model);
  if (await exists(path)) {
    const sha256 = await sha256File(path);
    if (sha256 === model.sha256) return { model, path, sha256 };
  }
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await synthesize({
    preset: model.preset,
    out: path,
    type: model.type,
    seed: model.seed,
    ...(onProgress ? { onProgress } : {}),
  });
  const sha256 = await sha256File(path);
  if (sha256 !== model.sha256) {
    throw new SpecModelMismatch(
      `${path}: generated ${model.id} hashes ${sha256}, the spec ${STANDARD.name} ` +
        `v${STANDARD.version} says ${model.sha256} (the generator changed; bump the spec)`,
    );
  }
  return { model, path, sha256 };
}

/**
 * SHA-256 of a file, hex, read in 4 MiB pieces — or remembered: hashes are kept in the cache
 * folder's `hashes.json` by real path, size and modification time, so a large model is read once
 * until it changes.
 */
export async function sha256File(path: string): Promise<string> {
  const info = await Deno.stat(path);
  const key = `${await Deno.realPath(path)}|${info.size}|${info.mtime?.getTime() ?? "?"}`;
  const store = `${cacheDir()}/hashes.json`;
  const known: Record<string, string> = await Deno.readTextFile(store)
    .then((text) => JSON.parse(text), () => ({}));
  if (typeof known[key] === "string") return known[key];
  const sha256 = await hashFile(path);
  if (info.mtime) {
    // best effort: a failed write only costs the next run a read of the file; files gone (or
    // changed) are forgotten
    known[key] = sha256;
    for (const entry of Object.keys(known)) {
      const [file, size, mtime] = entry.split("|");
      const now = await Deno.stat(file!).catch(() => null);
      if (!now || String(now.size) !== size || String(now.mtime?.getTime()) !== mtime) {
        delete known[entry];
      }
    }
    await Deno.mkdir(cacheDir(), { recursive: true })
      .then(() => Deno.writeTextFile(`${store}.${Deno.pid}`, JSON.stringify(known)))
      .then(() => Deno.rename(`${store}.${Deno.pid}`, store))
      .catch(() => {});
  }
  return sha256;
}

/** SHA-256 of a file, hex, read in 4 MiB pieces. */
async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path, { read: true });
  const buffer = new Uint8Array(4 << 20);
  for (;;) {
    const read = await file.read(buffer);
    if (read === null) break;
    hash.update(buffer.subarray(0, read));
  }
  return hash.digest("hex");
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/**
 * The quality text: `length` token ids drawn from a fixed 32-bit LCG (Numerical Recipes'), over
 * the vocabulary's ordinary tokens (3 … vocab−1), the same on every machine.
 */
export function specText(length: number, vocabulary: number, seed: number): number[] {
  let state = seed >>> 0;
  return Array.from({ length }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return 3 + (state % (vocabulary - 3));
  });
}
