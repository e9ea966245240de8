import assert from "node:assert/strict";
import { ExpertCache } from "./cache.ts";
import { type LayerIo, OffloadPlanner } from "./planner.ts";

const EXPERTS = 8;
const BYTES = 1000;

/** A planner over one pool of `slots`, and an io that logs loads and drops what `begun` has not. */
function setup(slots: number, begun: (slot: number) => boolean) {
  const cache = new ExpertCache({ slots, scopes: 1, scopeOf: () => 0, policy: "lru" });
  const planner = new OffloadPlanner(cache, { layers: 2, experts: EXPERTS, bytesOf: () => BYTES });
  const loads: string[] = [];
  const io: LayerIo = {
    load: (_slot, key, demand) => loads.push(`${demand ? "demand" : "guess"} ${key}`),
    wait() {},
    cancel: (slot) => !begun(slot),
    compute() {},
  };
  return { cache, planner, loads, io };
}

Deno.test("demands load before the guesses for the next layer; a right guess is a hit", () => {
  const { planner, loads, io } = setup(8, () => true);
  planner.stepLayer(0, [1, 5], 2, [{ layer: 1, experts: [2, 3] }], io);
  planner.stepLayer(1, [2, 3], 2, [], io);
  assert.deepEqual(loads, ["demand 1", "demand 5", "guess 10", "guess 11"]);
  assert.equal(planner.total.hits, 2);
  assert.equal(planner.total.prefetchRecall, 1);
  assert.equal(planner.total.wastedPrefetchBytes, 0);
});

Deno.test("a wrong guess leaves the cache when its layer runs: dropped if not begun, else wasted", () => {
  for (const begun of [false, true]) {
    const { cache, planner, io } = setup(8, () => begun);
    planner.stepLayer(0, [1], 1, [{ layer: 1, experts: [2, 3] }], io);
    const wrongSlot = cache.slotOf(EXPERTS + 3);
    planner.stepLayer(1, [2, 6], 2, [], io);
    assert.equal(cache.slotOf(EXPERTS + 3), -1, "the wrong guess is no longer resident");
    // its slot is the first to be filled again: here by the layer's missed expert 6
    assert.equal(cache.slotOf(EXPERTS + 6), wrongSlot);
    assert.equal(planner.total.prefetchedBytes, begun ? 2 * BYTES : BYTES);
    assert.equal(planner.total.wastedPrefetchBytes, begun ? BYTES : 0);
    assert.equal(planner.total.prefetchPrecision, 0.5);
    // per layer, prefetch bytes count in the layer whose experts they are
    assert.equal(planner.perLayer[0]!.prefetchedBytes, 0);
    assert.equal(planner.perLayer[1]!.prefetchedBytes, planner.total.prefetchedBytes);
  }
});
