import assert from "node:assert/strict";
import { openGGUF } from "../engine/gguf/read.ts";
import { inspectModel, type ModelSummary } from "../engine/model/inspect.ts";
import { synthesize } from "../engine/synth/synth.ts";
import { withTempDir } from "../tests/_helpers.ts";
import { machine } from "./_recorded.ts";
import type { EngineSettings } from "./config.ts";
import { chooseProfile, GIB } from "./profile.ts";
import { PROFILES } from "./profiles.ts";
import { NOISE_MARGIN, startingSettings, tune, untunedDefaults } from "./tune.ts";

/** The summary of a small generated MoE (16 experts, top-4). */
async function smallMoe(): Promise<ModelSummary> {
  return await withTempDir(async (dir) => {
    const { path } = await synthesize({ preset: "tiny-olmoe", out: `${dir}/m.gguf` });
    using gguf = await openGGUF(path);
    return inspectModel(gguf);
  });
}

const summary = await smallMoe();
const server = machine({
  cpu: "Intel Xeon® Processor",
  cores: 2,
  ramGiB: 24,
  gpu: { vendor: "65541", description: "llvmpipe (LLVM 15.0.6, 256 bits)", fallback: true },
});
const choice = chooseProfile(server, PROFILES);

Deno.test("a model that fits stays resident on every core; the profile says why", () => {
  const start = startingSettings(choice, server, summary, null);
  assert.equal(start.engine.backend, "cpu");
  assert.equal(start.engine.expert_budget_bytes, null);
  assert.equal(start.engine.threads, 2);
  assert.equal(start.engine.prefetch_depth, 0);
  assert.equal(start.budget.bytes, 24 * GIB * 0.85 - 2 * GIB);
  assert.match(start.budget.source, /cpu-only: 85 % of the RAM less 2048 MiB/);
  assert.match(start.why.join("\n"), /every weight resident/);
});

Deno.test("a budget below the model offloads experts into what the dense weights leave", () => {
  const experts = summary.experts!;
  const budget = experts.residentBytes + experts.totalBytes / 2;
  const start = startingSettings(choice, server, summary, budget);
  assert.equal(start.engine.expert_budget_bytes, Math.floor(experts.totalBytes / 2));
  assert.equal(start.engine.threads, 1, "a core left to the expert loader");
  assert.equal(start.engine.prefetch_depth, 1);
  assert.equal(start.budget.source, "--budget");
  const defaults = untunedDefaults(start, server);
  assert.equal(defaults.expert_budget_bytes, start.engine.expert_budget_bytes);
  assert.throws(
    () => startingSettings(choice, server, summary, experts.residentBytes),
    /its dense weights alone .* leave no room for an expert/,
  );
});

Deno.test("a GPU profile without a real GPU starts on the cpu backend and says so", () => {
  const halo = machine({ cpu: "AMD Ryzen AI Max+ 395 w/ Radeon 8060S", ramGiB: 128 });
  const start = startingSettings(chooseProfile(halo, PROFILES), halo, summary, null);
  assert.equal(start.engine.backend, "cpu");
  assert.match(start.why.join("\n"), /strix-halo wants a GPU, none here/);
});

/** A measure function from a table of decode speeds by what differs from `base`. */
function fakeMeasure(base: EngineSettings, speeds: Record<string, number>) {
  const seen: string[] = [];
  const measure = (engine: EngineSettings, change: string) => {
    seen.push(change);
    const differing = (Object.keys(engine) as (keyof EngineSettings)[])
      .filter((key) => engine[key] !== base[key])
      .map((key) => `${key}=${engine[key]}`).sort().join(",");
    return Promise.resolve(speeds[differing] ?? 100);
  };
  return { measure, seen };
}

Deno.test("the sweep keeps moves that beat the noise margin and builds on them", async () => {
  const experts = summary.experts!;
  const start = startingSettings(
    choice,
    server,
    summary,
    experts.residentBytes + experts.totalBytes / 2,
  );
  const defaults = untunedDefaults(start, server);
  const { measure, seen } = fakeMeasure(start.engine, {
    "cache_policy=lfu": 110, // kept: +10 %
    "prefetch_depth=2": 103, // within the margin alone: not kept
    "cache_policy=lfu,prefetch_depth=2": 121, // kept once lfu is: +10 % over it
  });
  const result = await tune(start.engine, defaults, {
    hardware: server,
    topK: experts.used,
    experts: experts.count,
  }, measure);
  assert.equal(result.engine.cache_policy, "lfu");
  assert.equal(result.engine.prefetch_depth, 2);
  assert.equal(result.tunedTps, 121);
  assert.equal(result.defaultTps, 100);
  assert.match(result.verdict, /tuned decode is 21 % faster than the untuned defaults/);
  assert.ok(seen.includes("threads 2") && seen.includes("no prefetch"), seen.join("; "));
  assert.equal(seen.filter((s) => s === "untuned defaults").length, 2, "timed twice at the end");
  assert.ok(NOISE_MARGIN > 0.03);
});

Deno.test("when nothing beats the defaults, tuning says the defaults are already best", async () => {
  const start = startingSettings(choice, server, summary, null);
  const defaults = untunedDefaults(start, server);
  assert.deepEqual(start.engine, defaults, "a resident model starts at the defaults here");
  const { measure } = fakeMeasure(start.engine, { "threads=1": 60 });
  const result = await tune(
    start.engine,
    defaults,
    { hardware: server, topK: 4, experts: 16 },
    measure,
  );
  assert.deepEqual(result.engine, defaults);
  assert.match(result.verdict, /already best/);
  assert.deepEqual(result.candidates.map((c) => c.change), [
    "start (the profile's config)",
    "threads 1",
    "untuned defaults",
    "untuned defaults",
  ]);
});
