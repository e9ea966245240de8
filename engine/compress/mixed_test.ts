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
  const steep = candidate("steep", 1, TYPE_LADDER.map((_, r) => 0.5 / (r + 1) ** 2));
  const flat = candidate("flat", 1, TYPE_LADDER.map((_, r) => 0.1 - 0.005 * r));
  const routed = candidate("routed", 0.25, TYPE_LADDER.map((_, r) => 0.5 / (r + 1) ** 2));
  assert.equal(allocateTypes([steep, flat], 150), null); // even the leanest is over
  const tight = allocateTypes([steep, flat, routed], 400)!;
  assert.equal(tight.types.get("steep"), TYPE_LADDER[1]); // the steepest gain first
  assert.equal(tight.types.get("flat"), TYPE_LADDER[0]);
  assert.equal(tight.types.get("routed"), TYPE_LADDER[0]);
  assert.ok(tight.bytes <= 400);
  const all = 3 * 100 * TYPE_LADDER.length; // every matrix at the richest rung
  const roomy = allocateTypes([steep, flat, routed], all)!;
  assert.equal(roomy.bytes, all);
  assert.ok(roomy.weightedError < tight.weightedError);
});
