import assert from "node:assert/strict";
import { pollPower, PowerTrace, streamPower } from "./energy_power.ts";

Deno.test("PowerTrace integrates readings by trapezoids and holds the last one", () => {
  const trace = new PowerTrace();
  assert.equal(trace.started, false);
  assert.equal(trace.joulesAt(500), 0);
  trace.add(1000, 10);
  assert.equal(trace.joulesAt(1000), 0);
  assert.equal(trace.joulesAt(1500), 5); // 10 W held for half a second
  trace.add(2000, 30); // the second: from 10 W to 30 W, 20 J
  trace.add(1500, 1000); // out of order: ignored
  trace.add(2500, Number.NaN); // not a reading: ignored
  assert.equal(trace.joulesAt(2000), 20);
  assert.equal(trace.joulesAt(3000), 50);
  assert.equal(trace.joulesAt(1200), 20); // never less than what is integrated
});

Deno.test("pollPower() reads a sensor until disposed", async () => {
  let reads = 0;
  const meter = await pollPower("test sensor", () => Promise.resolve((reads++, 40)), 10);
  assert.equal(meter.source, "test sensor");
  const start = await meter.joules();
  await new Promise((resolve) => setTimeout(resolve, 100));
  const joules = (await meter.joules()) - start;
  // 40 W for ~0.1 s
  assert.ok(joules > 40 * 0.08 && joules < 40 * 0.2, `${joules} J`);
  assert.ok(reads >= 3, `${reads} readings`);
  await meter[Symbol.asyncDispose]();
  const after = reads;
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(reads, after);
});

Deno.test("streamPower() says what a command printed when it gives no reading", async () => {
  const missing = await streamPower("no-such-tool", "/nonexistent/tool", [], () => null);
  assert.deepEqual(missing, { reason: "no no-such-tool" });
  const failing = await streamPower(
    "failing",
    "bash",
    ["-c", "echo 'NVIDIA-SMI has failed because it could not talk to the driver' >&2; exit 9"],
    () => null,
  );
  assert.deepEqual(failing, {
    reason: "failing gave no power reading (NVIDIA-SMI has failed because it could not talk " +
      "to the driver)",
  });
  const silent = await streamPower("silent", "sleep", ["10"], () => null, 200);
  assert.deepEqual(silent, { reason: "silent gave no power reading (no reading in 0.2 s)" });
});
