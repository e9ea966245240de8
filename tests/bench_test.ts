/**
 * `moebench bench` as a user runs it: each suite on a small model into a results file that the
 * schema accepts, the printed formats, llama.cpp beside moebench, resuming an interrupted run, and
 * the one-line refusals (a bad flag, a tampered results file).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { openGGUF } from "../engine/gguf/read.ts";
import { inspectModel } from "../engine/model/inspect.ts";
import { synthesize } from "../engine/synth/synth.ts";
import { llamaCppUnavailableReason } from "../peers/llama_cpp/llama_cpp.ts";
import { readResults, type ResultsFile } from "../suites/results.ts";
import { runMoebench, withTempDir } from "./_helpers.ts";

const unavailable = await llamaCppUnavailableReason();
/** A machine profile recorded here, so that each run need not profile again. */
const MACHINE = new URL("./fixtures/machine.json", import.meta.url).pathname;

/** A tiny MoE (tiny-olmoe: 16 experts, top-4) in `dir`. */
async function tinyModel(dir: string, type = "Q4_0"): Promise<string> {
  const path = join(dir, `tiny-${type}.gguf`);
  await synthesize({ preset: "tiny-olmoe", out: path, type, seed: 1 });
  return path;
}

Deno.test({
  name: "`moebench bench --suite tokens` times pp, ttft and tg, with llama.cpp beside it",
  ignore: unavailable !== null,
  async fn() {
    await withTempDir(async (dir) => {
      const path = await tinyModel(dir);
      const out = join(dir, "r.json");
      const result = await runMoebench(
        ...["bench", "--suite", "tokens", "--model", path, "--pp", "8,16", "--tg", "8"],
        ...["--pg", "8,4", "--depth", "0,8"],
        ...["--reps", "2", "--threads", "2", "--peer", "llama.cpp", "--out", out],
      );
      assert.equal(result.code, 0, result.stderr);
      const results = await readResults(out);
      assert.equal(results.complete, true);
      assert.equal(results.spec, null); // the user's model: never ranked
      assert.equal(results.machine.profile, "cpu-only"); // profiled in the run
      const ours = ["pp8", "pp16", "ttft8", "ttft16", "tg8", "pp8+tg4"];
      const theirs = ["pp8", "pp16", "tg8", "pp8+tg4"];
      // each test at each depth, llama.cpp's too
      const atDepth = (tests: string[]) => [...tests, ...tests.map((test) => `${test}@d8`)];
      assert.deepEqual(results.tests.map((r) => r.test), atDepth(ours));
      assert.deepEqual(results.peers.map((r) => r.test), atDepth(theirs));
      assert.equal(results.options["pg"], "8,4");
      using gguf = await openGGUF(path);
      const activeBytes = inspectModel(gguf).activeBytesPerToken;
      for (const record of [...results.tests, ...results.peers]) {
        assert.equal(record.samples.length, 2);
        assert.equal(record.warmup, 1);
        assert.equal(record.threads, 2);
        assert.equal(record.details["active_bytes_per_token"], activeBytes);
        assert.ok(record.samples.every((s) => s > 0), JSON.stringify(record));
      }
      // the table: both engines, the ratio, and decode as GB/s of weights read
      assert.match(
        result.stdout,
        /\| tg8 +\| .* tok\/s +\| \d+\.\d+× +\| [\d.]+ GB\/s \(\d+ % of RAM reads\)/,
      );
      assert.match(result.stdout, /llama\.cpp cpu/);
      // and the decode's energy below the table: measured, or why not
      assert.match(
        result.stdout,
        /^(decode energy \(median over the repetitions\):|energy: not available here: .*)$/m,
      );
      // the decode's energy where the machine has meters (RAPL, GPU sensors), else null and why
      const tg = results.tests.find((r) => r.test === "tg8")!;
      const energy = String(tg.details["energy"]);
      if (!energy.startsWith("not available here: ")) {
        assert.ok((tg.details["joules_per_token"] as number) > 0, energy);
      } else {
        assert.match(energy, /RAPL/);
        assert.equal(tg.details["joules_per_token"], null);
      }
    });
  },
});

Deno.test("`moebench bench` suites write results files the schema accepts, in every format", async () => {
  await withTempDir(async (dir) => {
    const path = await tinyModel(dir);
    const run = async (suite: string, ...more: string[]) => {
      const out = join(dir, `${suite}.json`);
      const result = await runMoebench(
        ...["bench", "--suite", suite, "--model", path, "--reps", "2", "--machine", MACHINE],
        ...["--out", out, ...more],
      );
      assert.equal(result.code, 0, result.stderr);
      return { result, results: await readResults(out) };
    };

    const load = await run("load");
    const loadTests = load.results.tests.map((r) => `${r.test} ${r.config}`);
    for (const test of ["seq_read", "expert_read_", "rand_read_256KiB", "expert_load"]) {
      for (const config of ["cold", "warm"]) {
        assert.ok(loadTests.some((t) => t.startsWith(test) && t.endsWith(config)), test);
      }
    }
    const latency = load.results.tests.find((r) => r.test === "expert_load")!;
    assert.equal(latency.samples.length, 64);
    assert.ok((latency.details.p50 as number) <= (latency.details.p99 as number));
    assert.equal(typeof latency.details.cold_verified, "boolean");

    const cache = await run("cache", "--format", "csv");
    const hitRates = cache.results.tests.filter((r) => r.test === "hit_rate");
    assert.equal(hitRates.length, 10 * 5); // ten budgets × five policies
    const measured = cache.results.tests.filter((r) => r.test === "tg32");
    assert.deepEqual(measured.map((r) => r.budget_share), [0.25, 0.5, 0.75]);
    assert.ok(cache.results.tests.some((r) => r.test === "prefetch_recall"));
    const [header, ...rows] = cache.result.stdout.trim().split("\n");
    assert.match(header!, /^engine,task,suite,test,model,/);
    assert.equal(rows.length, cache.results.tests.length);

    // several variants of one model against its reference, in one file (the Moxin comparison)
    const [reference, q8] = [await tinyModel(dir, "F16"), await tinyModel(dir, "Q8_0")];
    const quality = await run("quality", "--model", q8, "--reference", reference, "--json");
    const printed: ResultsFile = JSON.parse(quality.result.stdout);
    assert.deepEqual(printed, quality.results);
    const tests = quality.results.tests.map((r) => `${r.model} ${r.test}`);
    assert.deepEqual(tests, [
      "tiny-F16 ppl",
      "tiny-Q4_0 ppl",
      "tiny-Q4_0 kl",
      "tiny-Q4_0 top1_agreement",
      "tiny-Q8_0 ppl",
      "tiny-Q8_0 kl",
      "tiny-Q8_0 top1_agreement",
    ]);
    const [klQ4, klQ8] = quality.results.tests.filter((r) => r.test === "kl");
    assert.ok(klQ4!.mean > 0 && klQ4!.mean < 1, `KL ${klQ4!.mean}`);
    assert.ok(klQ8!.mean < klQ4!.mean, `Q8_0's KL ${klQ8!.mean} vs Q4_0's ${klQ4!.mean}`);
    assert.match(klQ8!.config, /^[\d.]+ [kM]B vs tiny-F16$/);
    const twoModels = await runMoebench("bench", "--suite", "tokens", "--model", q8, "--model", q8);
    assert.equal(twoModels.code, 2);
    assert.match(twoModels.stderr, /only --suite quality compares several/);
  });
});

Deno.test("`moebench bench --resume` runs only the tasks an interrupted run left", async () => {
  await withTempDir(async (dir) => {
    const path = await tinyModel(dir);
    const out = join(dir, "r.json");
    const args = ["bench", "--suite", "cache", "--model", path, "--reps", "2"];
    const first = await runMoebench(...args, "--machine", MACHINE, "--out", out);
    assert.equal(first.code, 0, first.stderr);
    const whole = await readResults(out);
    // as a run killed during its last task leaves the file: that task neither done nor recorded
    const last = whole.done.at(-1)!;
    const cut: ResultsFile = {
      ...whole,
      complete: false,
      score: null,
      done: whole.done.slice(0, -1),
      tests: whole.tests.filter((r) => r.task !== last),
    };
    await Deno.writeTextFile(out, JSON.stringify(cut));
    const resumed = await runMoebench(...args, "--machine", MACHINE, "--out", out, "--resume");
    assert.equal(resumed.code, 0, resumed.stderr);
    const after = await readResults(out);
    assert.equal(after.complete, true);
    assert.deepEqual(after.done, whole.done);
    // the finished tasks' records are kept as they were, the last one measured anew
    assert.deepEqual(after.tests.filter((r) => r.task !== last), cut.tests);
    assert.equal(after.tests.filter((r) => r.task === last).length, 1);
    assert.equal(after.timestamp, whole.timestamp);

    // another run's file is not resumed
    const other = await runMoebench(
      ...args,
      "--tg",
      "4",
      "--machine",
      MACHINE,
      "--out",
      out,
      "--resume",
    );
    assert.equal(other.code, 2);
    assert.match(other.stderr, /r\.json: made by another run .* cannot resume it/);
  });
});

Deno.test("a run killed mid-way leaves its last complete results file", async () => {
  await withTempDir(async (dir) => {
    const path = await tinyModel(dir);
    const out = join(dir, "r.json");
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        ...["run", "-A", "main.ts", "bench", "--suite", "cache", "--model", path],
        ...["--machine", MACHINE, "--out", out],
      ],
      cwd: new URL("..", import.meta.url),
      stdout: "null",
      stderr: "null",
      env: { CI: "1" },
    }).spawn();
    // kill it as soon as the first task's file is there
    while (!(await Deno.stat(out).catch(() => null))) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGKILL");
    await child.status;
    const results = await readResults(out);
    assert.equal(results.complete, false);
    assert.ok(results.done.length >= 1);
    const partials = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".partial"));
    assert.ok(partials.length <= 1); // at most the write it was killed in
  });
});

Deno.test("`moebench bench` refuses bad flags and results files with one line", async () => {
  await withTempDir(async (dir) => {
    const check = async (args: string[], message: RegExp) => {
      const result = await runMoebench(...args);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
    };
    await check(["bench", "--model", "x.gguf", "--threads", "0"], /--threads must be a whole/);
    await check(
      ["bench", "--suite", "standard", "--model", "x.gguf"],
      /standard suite runs its own/,
    );
    await check(["bench", "--suite", "standard", "--reps", "2"], /fixed by its spec/);
    await check(["bench", "--suite", "nope"], /argument 'nope' is invalid/);

    const path = await tinyModel(dir);
    const out = join(dir, "r.json");
    const args = ["bench", "--suite", "tokens", "--model", path, "--pp", "8", "--tg", "4"];
    const ok = await runMoebench(...args, "--reps", "2", "--machine", MACHINE, "--out", out);
    assert.equal(ok.code, 0, ok.stderr);
    const results = JSON.parse(await Deno.readTextFile(out));
    const tampered = structuredClone(results);
    tampered.tests[0].mean *= 2; // a flattering figure that its samples do not give
    await Deno.writeTextFile(out, JSON.stringify(tampered));
    const resume = [...args, "--reps", "2", "--machine", MACHINE, "--out", out, "--resume"];
    await check(resume, /r\.json: not a moebench results file \(tests\.0\.mean: pp8's mean is/);
    await Deno.writeTextFile(out, JSON.stringify({ ...results, format: "other" }));
    await check(resume, /r\.json: not a moebench results file \(format: /);
    await Deno.writeTextFile(out, "{ not json");
    await check(resume, /r\.json: not JSON/);
    await check([...args, "--machine", join(dir, "none.json")], /none\.json: no such file/);
  });
});
