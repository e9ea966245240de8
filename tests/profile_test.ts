/**
 * `moebench profile` and `moebench tune` as a user runs them: the machine profile JSON and its
 * file, the readable summary, and a tuned config that `generate` then runs with.
 */
import assert from "node:assert/strict";
import { readEngineConfig } from "../profiles/config.ts";
import { PROFILES } from "../profiles/profiles.ts";
import { runMoebench, withTempDir } from "./_helpers.ts";

const MEASURED = [
  "ram_copy_gbps",
  "ram_read_gbps",
  "disk_seq_read_gbps",
  "disk_rand_read_gbps",
  "disk_cold",
  "gpu_upload_gbps",
  "cpu_matvec_gbps",
  "gpu_matvec_gbps",
];

Deno.test("`profile --quick --json --out` detects, measures and chooses a profile", async () => {
  await withTempDir(async (dir) => {
    const result = await runMoebench(
      "profile",
      "--quick",
      "--json",
      "--dir",
      dir,
      "--out",
      `${dir}/machine.json`,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "", "no progress bar in CI or with --json");
    const machine = JSON.parse(result.stdout);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/machine.json`)), machine);
    assert.ok(PROFILES.some((p) => p.name === machine.profile));
    const gpu = machine.hardware.gpu;
    if (gpu === null || gpu.fallback.value === true) {
      assert.equal(machine.profile, "cpu-only");
      assert.match(machine.reason, /no WebGPU adapter|is a fallback \(software\) one/);
    }
    for (const key of MEASURED) assert.ok(key in machine.measured, key);
    for (const key of ["ram_copy_gbps", "ram_read_gbps", "cpu_matvec_gbps"]) {
      assert.ok(machine.measured[key] > 0, key);
    }
    assert.equal(typeof machine.measured.disk_cold, "boolean");
    assert.ok(machine.measured.disk_seq_read_gbps > 0);
    // every fact says where it came from; unknown is null, never a guess
    for (
      const fact of Object.values(machine.hardware.cpu) as { value: unknown; source: string }[]
    ) {
      assert.ok(fact.source.length > 0);
    }
    assert.equal(machine.hardware.disk.folder, await Deno.realPath(dir));
    assert.equal(machine.roofline, null, "no model, no roofline");
  });
});

Deno.test("`profile --model` prints the summary, the profile's reason and the roofline", async () => {
  await withTempDir(async (dir) => {
    const model = `${dir}/m.gguf`;
    await runMoebench("synth", "--preset", "tiny-olmoe", "--out", model);
    const result = await runMoebench("profile", "--quick", "--dir", dir, "--model", model);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /RAM copy \(STREAM: read \+ written\)/);
    assert.match(result.stdout, /page cache dropped \(checked\)|NOT cold: /);
    assert.match(result.stdout, /^profile: [a-z-]+( \(nearest\))? — .+$/m);
    assert.match(result.stdout, /roofline of .*m\.gguf:/);
    assert.match(result.stdout, /every routed expert read from disk each token/);
  });
});

Deno.test("`tune` writes a config that `generate --config` runs with, the CLI overriding it", async () => {
  await withTempDir(async (dir) => {
    const model = `${dir}/m.gguf`;
    await runMoebench("synth", "--preset", "tiny-olmoe", "--out", model);
    const inspect = JSON.parse((await runMoebench("inspect", model, "--json")).stdout);
    // room for the dense weights and half the experts: tuning must offload
    const budget = inspect.experts.residentBytes + inspect.experts.totalBytes / 2;
    const config = `${dir}/tuned.json`;
    const tuned = await runMoebench(
      "tune",
      "--model",
      model,
      "--budget",
      String(Math.floor(budget)),
      "--tokens",
      "4",
      "--reps",
      "1",
      "--out",
      config,
      "--json",
    );
    assert.equal(tuned.code, 0, tuned.stderr);
    const written = await readEngineConfig(config);
    assert.deepEqual(JSON.parse(tuned.stdout), written);
    assert.equal(written.budget.source, "--budget");
    assert.ok(written.engine.expert_budget_bytes! > 0);
    assert.ok(written.tuning.candidates.length >= 3);
    assert.ok(written.tuning.default_decode_tps > 0 && written.tuning.tuned_decode_tps > 0);

    const run = (...extra: string[]) =>
      runMoebench("generate", "--model", model, "--tokens", "1,5,9", "-n", "4", "--json", ...extra);
    const withConfig = JSON.parse((await run("--config", config)).stdout).stats;
    assert.equal(withConfig.threads, written.engine.threads);
    assert.equal(withConfig.offload.policy, written.engine.cache_policy);
    const other = written.engine.cache_policy === "lru" ? "fifo" : "lru";
    const overridden = JSON.parse((await run("--config", config, "--cache-policy", other)).stdout);
    assert.equal(overridden.stats.offload.policy, other);
  });
});

Deno.test("profile and tune mistakes: one line naming the problem, exit code 2", async () => {
  await withTempDir(async (dir) => {
    const model = `${dir}/m.gguf`;
    await runMoebench("synth", "--preset", "tiny-olmoe", "--out", model);
    await Deno.writeTextFile(`${dir}/bad.json`, '{"moebench_config": 1}');
    const mistakes: [string[], RegExp][] = [
      [["profile", "--dir", `${dir}/none`], /^moebench: --dir .*none: not a folder$/],
      [
        ["generate", "--model", model, "--tokens", "1", "--config", `${dir}/bad.json`],
        /^moebench: .*bad\.json: not a moebench engine config \(moebench: /,
      ],
      [
        ["generate", "--model", model, "--tokens", "1", "--config", `${dir}/none.json`],
        /^moebench: .*none\.json: no such file$/,
      ],
      [
        ["tune", "--model", model, "--budget", "1KiB", "--out", `${dir}/c.json`],
        /^moebench: .*m\.gguf: its dense weights alone .* leave no room for an expert/,
      ],
    ];
    for (const [args, expected] of mistakes) {
      const result = await runMoebench(...args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      const lines = result.stderr.trim().split("\n");
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]!, expected);
    }
    assert.ok(!(await Deno.stat(`${dir}/c.json`).catch(() => null)), "no config half-written");
  });
});
