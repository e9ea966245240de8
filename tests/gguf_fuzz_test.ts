/**
 * Fuzzing the GGUF reader with corrupted files: truncations, flipped bytes, huge counts and
 * lengths, bad magic, versions, type ids and offsets. Every file must either parse or fail with
 * a GGUFError — never another exception, a hang, or a large allocation — and the CLI must turn
 * each failure into one line on stderr with exit code 2.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { GGUFError } from "../engine/gguf/errors.ts";
import { openGGUF, parseGGUF } from "../engine/gguf/read.ts";
import { memorySource } from "../engine/gguf/source.ts";
import { numbers, str, strings, u32 } from "../engine/gguf/types.ts";
import { writeGGUF } from "../engine/gguf/write.ts";
import { Prng } from "../engine/synth/prng.ts";
import { buildVocabulary } from "../engine/synth/vocab.ts";
import { runMoebench, withTempDir } from "./_helpers.ts";

/** A small but complete model-like GGUF: every section of the format is present. */
async function baseFile(): Promise<Uint8Array> {
  const vocab = buildVocabulary(400);
  const path = await Deno.makeTempFile({ suffix: ".gguf" });
  try {
    await writeGGUF(path, {
      metadata: new Map([
        ["general.architecture", str("llama")],
        ["general.alignment", u32(32)],
        ["llama.block_count", u32(1)],
        ["llama.rope.freq_base", { type: "f32", value: 10000 }],
        ["llama.big", { type: "u64", value: 1n << 40n }],
        ["flag", { type: "bool", value: true }],
        ["tokenizer.ggml.tokens", strings(vocab.tokens)],
        ["tokenizer.ggml.scores", numbers("f32", vocab.scores)],
        ["tokenizer.ggml.token_type", numbers("i32", vocab.types)],
      ]),
      tensors: [
        { name: "token_embd.weight", typeName: "F16", shape: [64, 4], data: new Uint8Array(512) },
        {
          name: "blk.0.ffn_up_exps.weight",
          typeName: "Q4_0",
          shape: [64, 2, 2],
          data: new Uint8Array(144),
        },
        { name: "blk.0.attn_norm.weight", typeName: "F32", shape: [64], data: new Uint8Array(256) },
        {
          name: "blk.0.attn_q.weight",
          typeName: "Q4_K",
          shape: [256, 2],
          data: new Uint8Array(288),
        },
      ],
    });
    return await Deno.readFile(path);
  } finally {
    await Deno.remove(path);
  }
}

const base = await baseFile();
const headerEnd = base.length - (512 + 144 + 256 + 288 + 64); // roughly where tensor data begins

/** Deterministic corruptions of `base`, each with a label. */
function* corruptions(): Generator<[string, Uint8Array]> {
  const prng = new Prng(2024);
  const below = (n: number) => prng.nextU32() % n;
  const at = () => below(headerEnd);
  for (let i = 0; i < 250; i++) {
    const length = i < 50 ? i : below(base.length);
    yield [`truncated to ${length} bytes`, base.slice(0, length)];
  }
  for (let i = 0; i < 300; i++) {
    const copy = base.slice();
    const flips = 1 + below(8);
    for (let f = 0; f < flips; f++) {
      const offset = at();
      copy[offset] = copy[offset]! ^ (1 << below(8));
    }
    yield [`${flips} flipped bits (case ${i})`, copy];
  }
  const huge = [2n ** 64n - 1n, 2n ** 63n, 2n ** 32n, 2n ** 31n + 7n, 1n << 53n, 0n];
  for (let i = 0; i < 250; i++) {
    const copy = base.slice();
    const offset = Math.min(at(), base.length - 8);
    new DataView(copy.buffer).setBigUint64(offset, huge[below(huge.length)]!, true);
    yield [`huge u64 at byte ${offset}`, copy];
  }
  for (let i = 0; i < 250; i++) {
    const copy = base.slice();
    const offset = Math.min(at(), base.length - 4);
    const value = [prng.nextU32(), below(64), 0xffffffff, below(16)][i % 4]!;
    new DataView(copy.buffer).setUint32(offset, value, true);
    yield [`u32 ${value} at byte ${offset}`, copy];
  }
  for (const magic of ["GGJT", "GGML", "\0\0\0\0", "FUGG"]) {
    const copy = base.slice();
    copy.set(new TextEncoder().encode(magic), 0);
    yield [`magic ${JSON.stringify(magic)}`, copy];
  }
  for (let version = 0; version < 8; version++) {
    const copy = base.slice();
    new DataView(copy.buffer).setUint32(4, version, true);
    yield [`version ${version}`, copy];
  }
}

/** Parses within a time limit; resolves to the error, or null when the file parsed. */
async function parseOutcome(bytes: Uint8Array): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("hang: no result within 2 s")), 2000);
  });
  try {
    await Promise.race([parseGGUF(memorySource(bytes, "fuzz.gguf")), timeout]);
    return null;
  } catch (error) {
    return error;
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("parseGGUF() gives a clean GGUFError for each of 1,062 corrupted files", async () => {
  const memory = () => {
    const usage = Deno.memoryUsage();
    return usage.heapUsed + usage.external;
  };
  const baseline = memory();
  let peak = baseline;
  let cases = 0;
  let rejected = 0;
  for (const [label, bytes] of corruptions()) {
    const outcome = await parseOutcome(bytes);
    cases++;
    if (outcome !== null) {
      rejected++;
      assert.ok(outcome instanceof GGUFError, `${label}: ${outcome}`);
      assert.ok(!outcome.message.includes("\n"), `${label}: message has several lines`);
    }
    peak = Math.max(peak, memory());
  }
  console.log(`${cases} corrupted files: ${rejected} rejected, ${cases - rejected} harmless`);
  assert.equal(cases, 1062);
  assert.ok(rejected > 600, `only ${rejected} corruptions were detected`);
  const grownMB = (peak - baseline) / 2 ** 20;
  assert.ok(grownMB < 32, `memory grew by ${grownMB.toFixed(1)} MB`);
});

Deno.test("a hostile 8 GB sparse file with huge lengths is rejected without allocating", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "sparse.gguf");
    const head = new Uint8Array(64);
    const view = new DataView(head.buffer);
    head.set(new TextEncoder().encode("GGUF"));
    view.setUint32(4, 3, true);
    view.setBigUint64(8, 0n, true); // tensors
    view.setBigUint64(16, 1n, true); // one key
    view.setBigUint64(24, 3n, true);
    head.set(new TextEncoder().encode("k.s"), 32);
    view.setUint32(35, 8, true); // a string value…
    view.setBigUint64(39, 4n << 30n, true); // …of 4 GiB
    await Deno.writeFile(path, head);
    await Deno.truncate(path, 8 * 2 ** 30);
    const before = Deno.memoryUsage().rss;
    await assert.rejects(
      openGGUF(path),
      /string value in metadata key "k.s" has length 4294967296: the limit is 67108864 bytes/,
    );
    assert.ok(Deno.memoryUsage().rss - before < 256 * 2 ** 20);
  });
});

Deno.test("`moebench inspect` on corrupted files: one line on stderr, exit code 2", async () => {
  await withTempDir(async (dir) => {
    let checked = 0;
    let index = 0;
    for (const [label, bytes] of corruptions()) {
      if (index++ % 53 !== 0) continue; // a spread of 21 cases; the library test covers all
      const path = join(dir, `case-${index}.gguf`);
      await Deno.writeFile(path, bytes);
      const output = await runMoebench("inspect", path);
      const stderr = output.stderr.trim();
      if (output.code === 0) continue; // this corruption was harmless (e.g. a token's text)
      checked++;
      assert.equal(output.code, 2, `${label}: exit ${output.code}: ${stderr}`);
      assert.equal(stderr.split("\n").length, 1, `${label}: ${stderr}`);
      assert.match(stderr, /^moebench: Cannot read GGUF file ".*case-\d+\.gguf": /, label);
    }
    assert.ok(checked >= 10, `only ${checked} failing cases were checked`);
  });
});
