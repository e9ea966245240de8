import assert from "node:assert/strict";
import { STORAGE } from "./buffers.ts";
import { openGpu } from "./device.ts";
import { GpuOps } from "./ops.ts";
import { GpuTimer, KernelProfiler, type PassTime } from "./timing.ts";

const gpu = await openGpu();
const unavailable = "unavailable" in gpu ? gpu.unavailable : null;
if (unavailable) console.warn(`WebGPU timing tests skipped: ${unavailable}`);

Deno.test({
  name: "GPU passes are timed by timestamps where the device has them, else by the wall clock",
  ignore: unavailable !== null,
  async fn() {
    if ("unavailable" in gpu) return;
    const device = gpu.device;
    const ops = await GpuOps.create(device);
    const rows = 256;
    const width = 4096;
    const buffer = (bytes: number) => device.createBuffer({ size: bytes, usage: STORAGE });
    const [x, out, weight] = [
      buffer(rows * width * 4),
      buffer(rows * width * 4),
      buffer(width * 4),
    ];
    const clocks = gpu.has("timestamp-query") ? [true, false] : [false];
    for (const timestamps of clocks) {
      const timer: GpuTimer = new GpuTimer(gpu, 4, timestamps);
      const encoder = device.createCommandEncoder();
      for (const label of ["first", "second"]) {
        const pass = timer.beginPass(encoder, label);
        ops.rmsNorm(pass, out, x, weight, rows, width, 1e-6);
        pass.end();
      }
      const started = performance.now();
      const times: PassTime[] = await timer.submit(encoder);
      const wall = performance.now() - started;
      ops.release();
      timer.destroy();
      if (timestamps) {
        assert.deepEqual(times.map((t) => [t.label, t.clock]), [
          ["first", "timestamps"],
          ["second", "timestamps"],
        ]);
        // each pass did work, and took no longer than the submission as the host saw it
        for (const time of times) assert.ok(time.ms > 0 && time.ms <= wall, JSON.stringify(times));
      } else {
        assert.equal(times.length, 1);
        assert.equal(times[0]!.clock, "wall");
        assert.equal(times[0]!.label, "first + second");
        assert.ok(times[0]!.ms > 0 && times[0]!.ms <= wall + 1, JSON.stringify(times));
      }
    }
  },
});

Deno.test({
  name: "the kernel profiler sums each pipeline's dispatches, submitting when its timer is full",
  ignore: unavailable !== null || ("unavailable" in gpu ? false : !gpu.has("timestamp-query")),
  async fn() {
    if ("unavailable" in gpu) return;
    const device = gpu.device;
    const ops = await GpuOps.create(device);
    const [rows, width] = [256, 4096];
    const buffer = device.createBuffer({ size: rows * width * 4, usage: STORAGE });
    const normed = device.createBuffer({ size: rows * width * 4, usage: STORAGE });
    const weight = device.createBuffer({ size: width * 4, usage: STORAGE });
    const profiler = new KernelProfiler(gpu, 2);
    let encoder = device.createCommandEncoder();
    const current = { pass: encoder.beginComputePass() };
    let flushes = 0;
    const flush = () => {
      current.pass.end();
      profiler.submit(encoder);
      encoder = device.createCommandEncoder();
      current.pass = encoder.beginComputePass();
      flushes++;
    };
    const pass = profiler.wrap(() => encoder, current, flush);
    for (let i = 0; i < 3; i++) ops.rmsNorm(pass, normed, buffer, weight, rows, width, 1e-6);
    for (let i = 0; i < 2; i++) ops.roundF16(pass, buffer, rows * width);
    current.pass.end();
    profiler.submit(encoder);
    const times = await profiler.times();
    ops.release();
    profiler.destroy();
    // five dispatches in passes of two per submission: two flushes, then the last one
    assert.equal(flushes, 2);
    assert.deepEqual(
      times.map((t) => [t.kernel, t.calls, t.clock]).sort(),
      [["rms_norm", 3, "timestamps"], ["round_f16_in_place", 2, "timestamps"]],
    );
    assert.ok(times.every((t) => t.ms > 0), JSON.stringify(times));
  },
});
