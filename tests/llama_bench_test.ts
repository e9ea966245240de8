/**
 * llama-bench compatibility as a user meets it: `bench --format llama-bench-json|jsonl|sql` prints
 * llama-bench's rows, and `moebench import` turns llama-bench's output into a results file that a
 * report shows beside a moebench run of the same model.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { synthesize } from "../engine/synth/synth.ts";
import { readResults } from "../suites/results.ts";
import { runMoebench, withTempDir } from "./_helpers.ts";

const MACHINE = new URL("./fixtures/machine.json", import.meta.url).pathname;

/** A row as llama-bench 5163 printed it (its README's example), for `model`. */
const llamaBenchRow = (model: string, prompt: number, gen: number, samples: number[]) => ({
  build_commit: "8cf427ff",
  build_number: 5163,
  cpu_info: "AMD Ryzen 7 7800X3D 8-Core Processor",
  gpu_info: "",
  backends: "CPU",
  model_filename: model,
  model_type: "olmoe ?B Q4_0",
  model_size: 1000,
  model_n_params: 1000,
  n_batch: 2048,
  n_ubatch: 512,
  n_threads: 2,
  cpu_mask: "0x0",
  cpu_strict: false,
  poll: 50,
  type_k: "f16",
  type_v: "f16",
  n_gpu_layers: 0,
  split_mode: "layer",
  main_gpu: 0,
  no_kv_offload: false,
  flash_attn: false,
  tensor_split: "0.00",
  use_mmap: true,
  embeddings: false,
  n_prompt: prompt,
  n_gen: gen,
  n_depth: 0,
  test_time: "2025-04-24T11:58:50Z",
  avg_ns: 1,
  stddev_ns: 0,
  avg_ts: samples.reduce((a, b) => a + b) / samples.length,
  stddev_ts: 0,
  samples_ns: samples.map((s) => Math.round(((prompt + gen) / s) * 1e9)),
  samples_ts: samples,
});

Deno.test("llama-bench's formats out, llama-bench's output in, shown beside moebench's run", async () => {
  await withTempDir(async (dir) => {
    const model = join(dir, "tiny.gguf");
    await synthesize({ preset: "tiny-olmoe", out: model, type: "Q4_0", seed: 2 });
    const ours = join(dir, "ours.json");
    const bench = await runMoebench(
      ...["bench", "--suite", "tokens", "--model", model, "--pp", "8", "--tg", "4", "--reps", "2"],
      ...["--depth", "0,16", "--pg", "8,4", "--machine", MACHINE, "--out", ours],
      ...["--format", "llama-bench-json"],
    );
    assert.equal(bench.code, 0, bench.stderr);
    const rows = JSON.parse(bench.stdout);
    // the resident pp, tg and pg at each depth, not ttft or the offloaded runs: what llama-bench
    // has
    type Row = { n_prompt: number; n_gen: number; n_depth: number };
    assert.deepEqual(rows.map((r: Row) => [r.n_prompt, r.n_gen, r.n_depth]), [
      [8, 0, 0],
      [0, 4, 0],
      [8, 4, 0],
      [8, 0, 16],
      [0, 4, 16],
      [8, 4, 16],
    ]);
    const pg = (await readResults(ours)).tests.find((r) => r.test === "pp8+tg4")!;
    assert.deepEqual(rows[2].samples_ts, pg.samples);
    assert.deepEqual(rows[2].samples_ns, pg.samples.map((ts) => Math.round((12 / ts) * 1e9)));
    const results = await readResults(ours);
    const tg = results.tests.find((r) => r.test === "tg4" && r.config === "resident")!;
    assert.deepEqual(rows[1].samples_ts, tg.samples);
    assert.equal(rows[1].model_filename, model);
    assert.equal(rows[1].backends, "CPU");

    const sql = await runMoebench(
      "bench",
      "--suite",
      "tokens",
      "--model",
      model,
      "--pp",
      "8",
      "--tg",
      "4",
      "--reps",
      "2",
      "--machine",
      MACHINE,
      "--format",
      "llama-bench-sql",
    );
    assert.equal(sql.code, 0, sql.stderr);
    assert.match(
      sql.stdout,
      /^CREATE TABLE IF NOT EXISTS test \(\n {2}build_commit TEXT,\n {2}build_number INTEGER,/,
    );
    assert.equal((sql.stdout.match(/^INSERT INTO test \(/gm) ?? []).length, 2);

    // llama-bench's own output for the same file, imported and reported beside ours
    const theirs = join(dir, "llama-bench.json");
    await Deno.writeTextFile(
      theirs,
      JSON.stringify([
        llamaBenchRow(model, 8, 0, [700, 710, 690]),
        llamaBenchRow(model, 0, 4, [300, 310, 305]),
        llamaBenchRow(model, 8, 4, [500, 505, 495]),
      ]),
    );
    const imported = join(dir, "imported.json");
    const run = await runMoebench("import", theirs, "--out", imported, "--machine", MACHINE);
    assert.equal(run.code, 0, run.stderr);
    const back = await readResults(imported);
    assert.deepEqual(back.tests.map((r) => [r.test, r.model, r.backend, r.samples]), [
      ["pp8", "tiny", "llama.cpp cpu", [700, 710, 690]],
      ["tg4", "tiny", "llama.cpp cpu", [300, 310, 305]],
      ["pp8+tg4", "tiny", "llama.cpp cpu", [500, 505, 495]],
    ]);
    assert.equal(back.models[0]!.sha256, results.models[0]!.sha256);
    const out = join(dir, "report.html");
    const report = await runMoebench("report", ours, imported, "--out", out);
    assert.equal(report.code, 0, report.stderr);
    const html = await Deno.readTextFile(out);
    assert.match(html, /llama\.cpp cpu/);

    // what is not llama-bench output is refused in one line
    await Deno.writeTextFile(theirs, JSON.stringify([llamaBenchRow(model, 0, 0, [1])]));
    const empty = await runMoebench("import", theirs, "--out", imported, "--machine", MACHINE);
    assert.equal(empty.code, 2);
    assert.match(
      empty.stderr,
      /llama-bench\.json: not llama-bench output: 0\.n_prompt: a test with neither prompt nor generated tokens$/m,
    );
    await Deno.writeTextFile(theirs, '[{"build_commit": 1}]');
    const bad = await runMoebench("import", theirs, "--out", imported, "--machine", MACHINE);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /^moebench: .*llama-bench\.json: not llama-bench output: 0\.build_commit: /,
    );
  });
});
