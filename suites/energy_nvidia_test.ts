import assert from "node:assert/strict";
import { join } from "node:path";
import { NVIDIA_SMI_ARGS, openNvidiaSmi, parseNvidiaSmiLine } from "./energy_nvidia.ts";

Deno.test("parseNvidiaSmiLine() reads nvidia-smi's CSV power lines", () => {
  assert.deepEqual(parseNvidiaSmiLine("2026/12/05 06:20:51.250, 1, 71.32"), {
    trace: "GPU 1",
    watts: 71.32,
    ms: new Date(2026, 11, 5, 6, 20, 51, 250).getTime(),
  });
  assert.equal(parseNvidiaSmiLine("2026/12/05 06:20:51.250, 0, [N/A]"), null);
  assert.equal(parseNvidiaSmiLine("No devices were found"), null);
});

/**
 * A stand-in `nvidia-smi` that answers the query as the real one does: two GPUs at 100 W and 300 W,
 * a line each per interval, stamped with the local time.
 */
const FAKE_NVIDIA_SMI = `#!/usr/bin/env bash
[ "$*" = "${NVIDIA_SMI_ARGS.join(" ")}" ] || { echo "unexpected arguments: $*" >&2; exit 2; }
while true; do
  now=$(date +"%Y/%m/%d %H:%M:%S.%3N")
  echo "$now, 0, 100.00"
  echo "$now, 1, 300.00"
  sleep 0.1
done
`;

Deno.test("openNvidiaSmi() integrates every GPU's power from a running nvidia-smi", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const command = join(dir, "nvidia-smi");
    await Deno.writeTextFile(command, FAKE_NVIDIA_SMI, { mode: 0o755 });
    const gpus = await openNvidiaSmi(command);
    assert.ok("meter" in gpus, JSON.stringify(gpus));
    await using meter = gpus.meter;
    assert.equal(meter.source, "nvidia-smi GPU 0 + nvidia-smi GPU 1");
    const before = await meter.joules();
    const start = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 600));
    const joules = (await meter.joules()) - before;
    const expected = 400 * (Date.now() - start) / 1000;
    // readings come every 0.1 s and are stamped to the millisecond
    assert.ok(Math.abs(joules - expected) < 400 * 0.15, `${joules} J, expected ${expected}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openNvidiaSmi() gives a reason where the GPU reports no power", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const command = join(dir, "nvidia-smi");
    await Deno.writeTextFile(
      command,
      `#!/usr/bin/env bash\nwhile true; do echo "2026/12/05 06:20:51.250, 0, [N/A]"; sleep 0.1; done\n`,
      { mode: 0o755 },
    );
    const gpus = await openNvidiaSmi(command, 500);
    assert.deepEqual(gpus, {
      reason: "nvidia-smi gave no power reading (2026/12/05 06:20:51.250, 0, [N/A])",
    });
    assert.deepEqual(await openNvidiaSmi(join(dir, "none")), { reason: "no nvidia-smi" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
