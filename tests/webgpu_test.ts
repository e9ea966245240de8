/**
 * The webgpu backend from the command line, on whatever adapter there is (Mesa's llvmpipe in
 * CI; skipped with a message where there is none): `eval` agrees with the cpu backend,
 * `generate` with offloaded experts in GPU slots gives the cpu backend's tokens and cache
 * counts, hybrid placement its tokens with the trace's hot experts on the GPU, latent attention
 * its logits; `--gpu-profile` times every kernel, `auto` keeps a fallback adapter for the cpu
 * backend, and a wrong combination of flags is one clear line. (Agreement with llama.cpp for
 * every type and architecture: llama_cpp_fixtures_test.ts.)
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { openGpu } from "../engine/backend/webgpu/device.ts";
import { runMoebench, withTempDir } from "./_helpers.ts";

const gpu = await openGpu();
const unavailable = "unavailable" in gpu ? gpu.unavailable : null;
if (unavailable) console.warn(`webgpu CLI tests skipped: ${unavailable}`);
if (!("unavailable" in gpu)) gpu.device.destroy();

const test = (name: string, fn: (dir: string) => Promise<void>) =>
  Deno.test({ name, ignore: unavailable !== null, fn: () => withTempDir(fn) });

async function synth(dir: string, preset: string, type: string): Promise<string> {
  const model = join(dir, `${preset}.gguf`);
  const made = await runMoebench("synth", "--preset", preset, "--type", type, "--out", model);
  assert.equal(made.code, 0, made.stderr);
  return model;
}

async function json(...args: string[]) {
  const ran = await runMoebench(...args);
  assert.equal(ran.code, 0, ran.stderr);
  return JSON.parse(ran.stdout);
}

test("`eval --backend webgpu` gives the cpu backend's top tokens and logits", async (dir) => {
  // no q/k norm: f32 norms (the GPU has no f64) can move a query by one f16 step, which the
  // Q8 rounding downstream amplifies; the quantized mat-vecs themselves sum exactly as ggml
  const model = await synth(dir, "tiny-mixtral", "Q4_0");
  const args = ["eval", "--model", model, "--tokens", "1,40,7,300,12", "--top", "3", "--json"];
  const cpu = await json(...args, "--backend", "cpu");
  const webgpu = await json(...args, "--backend", "webgpu");
  assert.equal(webgpu.top.length, 5);
  for (const [i, row] of webgpu.top.entries()) {
    for (const [rank, [id, logit]] of row.entries()) {
      const [cpuId, cpuLogit] = cpu.top[i][rank];
      assert.equal(id, cpuId, `position ${i} rank ${rank}`);
      assert.ok(Math.abs(logit - cpuLogit) < 1e-3, `position ${i}: ${logit} vs ${cpuLogit}`);
    }
  }
});

test("`generate --backend webgpu` with offloaded experts: the cpu backend's tokens and cache counts", async (dir) => {
  const model = await synth(dir, "tiny-qwen2moe", "Q4_0");
  // a prompt of two batches' worth of positions is not needed: 12 tokens go through as one batch
  const prompt = ["--prompt", "the router sends each token to its experts", "-n", "12", "--json"];
  for (const budget of [["--expert-budget", "30%"], ["--expert-slots", "1"]]) {
    const args = ["generate", "--model", model, ...prompt, ...budget];
    const cpu = await json(...args, "--backend", "cpu");
    const webgpu = await json(...args, "--backend", "webgpu");
    assert.deepEqual(webgpu.tokens, cpu.tokens, budget.join(" "));
    assert.equal(webgpu.stats.backend, "webgpu");
    assert.equal(webgpu.stats.threads, 0);
    assert.equal(typeof webgpu.stats.gpu, "string");
    for (const key of ["hits", "misses", "slots"]) {
      assert.equal(
        webgpu.stats.offload[key],
        cpu.stats.offload[key],
        `${budget.join(" ")}: ${key}`,
      );
    }
  }
  const resident = await json("generate", "--model", model, ...prompt, "--backend", "webgpu");
  const cpu = await json("generate", "--model", model, ...prompt, "--backend", "cpu");
  assert.deepEqual(resident.tokens, cpu.tokens);
});

test("hybrid placement (`--gpu-experts`, `--placement-trace`): the trace's hot experts on the GPU, the rest on the CPU, the cpu backend's tokens", async (dir) => {
  const model = await synth(dir, "tiny-qwen2moe", "Q4_0");
  const trace = join(dir, "t.jsonl");
  const prompt = ["--prompt", "the router sends each token to its experts", "-n", "12"];
  const traced = await runMoebench("trace", "--model", model, ...prompt, "--out", trace);
  assert.equal(traced.code, 0, traced.stderr);
  const hybrid = ["--backend", "webgpu", "--gpu-experts", "40%", "--placement-trace", trace];
  const cpu = await json("generate", "--model", model, ...prompt, "--json", "--backend", "cpu");
  const mixed = await json("generate", "--model", model, ...prompt, "--json", ...hybrid);
  assert.deepEqual(mixed.tokens, cpu.tokens);
  const stats = mixed.stats.hybrid;
  // tiny-qwen2moe: 4 MoE layers of 8 experts, of which 40 % of the bytes fit 12
  assert.equal(stats.gpu_experts + stats.cpu_experts, 32);
  assert.equal(stats.gpu_experts, 12);
  assert.ok(stats.gpu_bytes <= 0.4 * (stats.gpu_bytes + stats.cpu_bytes));
  // the same tokens route as they did while tracing: the GPU ran the share the trace predicted,
  // more than its share of the experts (the hot ones)
  assert.ok(Math.abs(stats.gpu_share - stats.expected_gpu_share) < 1e-12);
  assert.ok(stats.gpu_share > 12 / 32, `${stats.gpu_share}`);
  assert.ok(stats.cpu_ms > 0);
  assert.equal(mixed.stats.threads, navigator.hardwareConcurrency);

  // teacher-forced logits are the GPU's alone (several tokens per batch reach the CPU's
  // experts; both compute them as ggml does, so any difference is a misplaced row)
  const tokens = ["--tokens", "1,40,7,300,12,99,5", "--top", "3", "--json"];
  const gpuTop = (await json("eval", "--model", model, ...tokens, "--backend", "webgpu")).top;
  const mixedTop = (await json("eval", "--model", model, ...tokens, ...hybrid)).top;
  for (const [i, row] of mixedTop.entries()) {
    for (const [rank, [id, logit]] of row.entries()) {
      assert.equal(id, gpuTop[i][rank][0], `position ${i} rank ${rank}`);
      assert.ok(Math.abs(logit - gpuTop[i][rank][1]) < 1e-4, `position ${i}`);
    }
  }

  const refused = async (args: string[], message: RegExp) => {
    const ran = await runMoebench(
      "generate",
      "--model",
      model,
      "--tokens",
      "1",
      "-n",
      "1",
      ...args,
    );
    assert.equal(ran.code, 2, ran.stderr);
    assert.match(ran.stderr, message);
  };
  await refused(["--backend", "webgpu", "--gpu-experts", "40%"], /^moebench: hybrid .* both .*\n$/);
  await refused([...hybrid, "--expert-budget", "30%"], /^moebench: give --gpu-experts or .*\n$/);
  await refused([...hybrid.slice(2), "--backend", "cpu"], /^moebench: hybrid .* webgpu .*\n$/);
  const other = await synth(dir, "tiny-olmoe", "Q8_0");
  const mismatch = await runMoebench(
    "generate",
    "--model",
    other,
    "--tokens",
    "1",
    ...hybrid,
  );
  assert.equal(mismatch.code, 2);
  assert.match(mismatch.stderr, /^moebench: the trace of .* not this one's .*\n$/);
});

test("`generate --gpu-profile`: every kernel's dispatches and GPU time, the same tokens", async (dir) => {
  const model = await synth(dir, "tiny-qwen2moe", "Q4_0");
  const args = ["generate", "--model", model, "--tokens", "1,40,7", "-n", "5", "--json"];
  const plain = await json(...args, "--backend", "webgpu");
  const profiled = await json(...args, "--backend", "webgpu", "--gpu-profile");
  assert.deepEqual(profiled.tokens, plain.tokens);
  const kernels: { kernel: string; calls: number; ms: number; clock: string }[] =
    profiled.stats.gpu_kernels;
  const probe = await openGpu();
  const timestamps = !("unavailable" in probe) && probe.has("timestamp-query");
  if (!("unavailable" in probe)) probe.device.destroy();
  if (!timestamps) {
    assert.deepEqual(kernels.map((k) => k.clock), kernels.map(() => "wall"));
    return;
  }
  const byName = new Map(kernels.map((k) => [k.kernel, k]));
  // one prompt batch and four decode steps, each through 4 layers: one attention per layer
  assert.equal(byName.get("attention")?.calls, 4 * 5);
  for (const name of ["matvec Q4_0", "rms_norm", "rope", "swiglu", "mix_rows", "copy_rows"]) {
    assert.ok((byName.get(name)?.ms ?? 0) > 0, `${name}: ${JSON.stringify(byName.get(name))}`);
  }
  assert.ok(kernels.every((k) => k.clock === "timestamps" && k.calls > 0));
  for (let i = 1; i < kernels.length; i++) assert.ok(kernels[i - 1]!.ms >= kernels[i]!.ms);

  const cpu = await runMoebench(...args, "--backend", "cpu", "--gpu-profile");
  assert.equal(cpu.code, 2);
  assert.match(cpu.stderr, /^moebench: --gpu-profile needs --backend webgpu \(running on cpu\)\n$/);
});

test("`--backend auto` leaves a fallback adapter for the cpu backend; `--threads` without hybrid placement is one line", async (dir) => {
  const model = await synth(dir, "tiny-mixtral", "Q8_0");
  const auto = await json(
    "generate",
    "--model",
    model,
    "--tokens",
    "1,2",
    "-n",
    "2",
    "--backend",
    "auto",
    "--json",
  );
  const probe = await openGpu();
  const fallback = !("unavailable" in probe) && probe.info.fallback;
  if (!("unavailable" in probe)) probe.device.destroy();
  assert.equal(auto.stats.backend, fallback ? "cpu" : "webgpu");

  const threads = await runMoebench(
    "generate",
    "--model",
    model,
    "--tokens",
    "1",
    "-n",
    "1",
    "--backend",
    "webgpu",
    "--threads",
    "2",
  );
  assert.notEqual(threads.code, 0);
  assert.match(threads.stderr, /^moebench: --threads needs --backend cpu, or --gpu-experts.*\n$/);
});

test("latent attention on the GPU: DeepSeek-V3's layout (compressed queries, grouped sigmoid routing) gives the cpu backend's logits", async (dir) => {
  // (tiny-deepseek2, without compressed queries, meets llama.cpp's budget for every type in
  // llama_cpp_fixtures_test.ts.) Five positions: later ones come near a routing tie that f32
  // and f64 norms break differently, on the cpu backend as much as on the GPU
  const model = join(dir, "v3.gguf");
  const made = await runMoebench(
    "synth",
    "--preset",
    "deepseek-v3-shape",
    "--scale",
    "0.05",
    "--layers",
    "3",
    "--type",
    "Q8_0",
    "--out",
    model,
  );
  assert.equal(made.code, 0, made.stderr);
  const args = ["eval", "--model", model, "--tokens", "1,383,412,17,99", "--top", "3", "--json"];
  const cpu = await json(...args, "--backend", "cpu");
  const webgpu = await json(...args, "--backend", "webgpu");
  for (const [i, row] of webgpu.top.entries()) {
    for (const [rank, [id, logit]] of row.entries()) {
      assert.equal(id, cpu.top[i][rank][0], `position ${i} rank ${rank}`);
      assert.ok(Math.abs(logit - cpu.top[i][rank][1]) < 1e-3, `position ${i}: ${logit}`);
    }
  }
});
