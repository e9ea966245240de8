import assert from "node:assert/strict";
import { allocateTypes, type Candidate, TYPE_LADDER } from "./mixed.ts";

Deno.test("the allocator upgrades where error per byte falls most, within the budget", () => {
  const candidate = (name: string, weight: number, errors: number[]): Candidate => ({
    name,
    role: "test",
    weight,
    elements: 1000,
    types: TYPE_LADDER,
    bytes: TYPE_LADDER.map((_, r) => 100 * (r + 1)),
    relativeError: errors,
  });
  const steep = candidate("steep", 1, [0.5, 0.1, 0.07, 0.05, 0.03, 0.02, 0.015, 0.01, 0]);
  const flat = candidate("flat", 1, [0.1, 0.095, 0.09, 0.08, 0.075, 0.07, 0.065, 0.06, 0]);
  const routed = candidate("routed", 0.25, [0.5, 0.1, 0.07, 0.05, 0.03, 0.02, 0.015, 0.01, 0]);
  assert.equal(allocateTypes([steep, flat], 150), null); // even the leanest is over
  const tight = allocateTypes([steep, flat, routed], 400)!;
  assert.equal(tight.types.get("steep"), "Q4_K"); // the steepest gain first
  assert.equal(tight.types.get("flat"), "Q4_0");
  assert.equal(tight.types.get("routed"), "Q4_0");
  assert.ok(tight.bytes <= 400);
  const roomy = allocateTypes([steep, flat, routed], 2700)!;
  assert.equal(roomy.bytes, 2700);
  assert.ok(roomy.weightedError < tight.weightedError);
});
