import assert from "node:assert/strict";
import { STORAGE } from "./buffers.ts";
import { openGpu } from "./device.ts";
import { GpuOps } from "./ops.ts";
import { GpuTimer, type PassTime } from "./timing.ts";

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
