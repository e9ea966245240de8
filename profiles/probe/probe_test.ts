import assert from "node:assert/strict";
import { withTempDir } from "../../tests/_helpers.ts";
import { machine } from "../_recorded.ts";
import { measureCpu } from "./cpu.ts";
import { measureDisk } from "./disk.ts";
import { measureGpu } from "./gpu.ts";
import { ramArrayBytes } from "./mod.ts";
import { measureCopyBandwidth } from "./ram.ts";
import { roofline } from "./roofline.ts";

const MIB = 2 ** 20;

Deno.test("the roofline divides each tier's rate by the bytes a token reads from it", () => {
  const tiers = roofline(
    { ramRead: 30, cpuMatVec: 20, gpuMatVec: null, diskRandomRead: 1.5 },
    { activeBytes: 60e6, expertBytes: 45e6 },
  );
  assert.deepEqual(tiers.map((t) => [t.tier, Math.round(t.tokensPerSecond)]), [
    ["ram", 500],
    ["cpu-kernel", 333],
    ["disk-experts", 33],
  ]);
  const dense = roofline(
    { ramRead: 30, cpuMatVec: null, gpuMatVec: null, diskRandomRead: 1.5 },
    { activeBytes: 60e6, expertBytes: 0 },
  );
  assert.deepEqual(dense.map((t) => t.tier), ["ram"], "no experts: no disk tier");
});

Deno.test("RAM arrays are 4× the last-level cache (2× quick), within RAM and JS limits", () => {
  const laptop = machine({ cpu: "x", ramGiB: 32 });
  const withCache = (l3: number, available = 32 * 2 ** 30) => ({
    ...laptop,
    cpu: { ...laptop.cpu, l3Bytes: { value: l3, source: "recorded" } },
    memory: { ...laptop.memory, availableBytes: { value: available, source: "recorded" } },
  });
  assert.equal(ramArrayBytes(withCache(64 * MIB), false), 1024 * MIB, "at least 1 GiB");
  assert.equal(ramArrayBytes(withCache(384 * MIB), false), 1536 * MIB);
  assert.equal(ramArrayBytes(withCache(384 * MIB), true), 768 * MIB);
  assert.equal(ramArrayBytes(withCache(1024 * MIB), false), 1792 * MIB, "shared arrays < 2 GiB");
  assert.equal(ramArrayBytes(withCache(384 * MIB, 2 * 2 ** 30), false), 512 * MIB);
  // a hidden cache size (a VM) may be an EPYC's 1 GiB of L3: arrays as large as allowed
  const hidden = {
    ...laptop,
    cpu: {
      ...laptop.cpu,
      l2Bytes: { value: null, source: "hidden" },
      l3Bytes: { value: null, source: "hidden" },
    },
  };
  assert.equal(ramArrayBytes(hidden, true), 1024 * MIB);
  assert.equal(ramArrayBytes(hidden, false), 1792 * MIB);
});

Deno.test("the copy, CPU and GPU probes run their kernels and report GB/s", async () => {
  const copy = await measureCopyBandwidth({ arrayBytes: 32 * MIB, threads: 2, reps: 2 });
  assert.ok(copy.best >= copy.median && copy.median > 0);
  const cpu = await measureCpu({ matrixBytes: 32 * MIB, threads: 2, reps: 2 });
  assert.ok(cpu.read.best > 0 && cpu.matVec.best > 0);
  const gpu = await measureGpu({ matrixBytes: 4 * MIB, reps: 1 });
  if ("unavailable" in gpu) {
    console.warn(`GPU probe skipped: ${gpu.unavailable}`);
  } else {
    assert.ok(gpu.upload.best > 0 && gpu.matVec.best > 0);
  }
});

Deno.test("the disk probe reads cold (the drop checked) and warm, and removes its file", async () => {
  await withTempDir(async (dir) => {
    const disk = await measureDisk({ folder: dir, fileBytes: 16 * MIB, expertBytes: MIB });
    assert.deepEqual([...Deno.readDirSync(dir)], [], "no probe file left behind");
    for (const rate of [disk.sequential, disk.random]) assert.ok(rate.cold > 0 && rate.warm > 0);
    if (Deno.build.os === "linux") {
      assert.equal(disk.cold, true, disk.coldFailure ?? "");
      assert.equal(disk.coldFailure, null);
    }
    await assert.rejects(
      measureDisk({ folder: dir, fileBytes: MIB, expertBytes: MIB }),
      /at least 2 experts/,
    );
    await assert.rejects(
      measureDisk({ folder: `${dir}/missing`, fileBytes: 16 * MIB, expertBytes: MIB }),
      Deno.errors.NotFound,
    );
  });
});
