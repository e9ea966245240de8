/**
 * Run by allocation_test.ts under `--v8-flags=--expose-gc,--min-semi-space-size=…` (a young
 * generation too large to be collected in between): decodes `warm` tokens, collects garbage, then
 * decodes `measured` more and prints how much the heap grew meanwhile, i.e. what they allocated.
 *
 *     deno run -A --v8-flags=--expose-gc,--min-semi-space-size=64 tests/_decode_allocations.ts \
 *       MODEL WARM MEASURED
 * @module
 */
import { CpuBackend } from "../engine/backend/cpu/backend.ts";
import { openGGUF } from "../engine/gguf/read.ts";
import { ReferenceModel } from "../engine/model/reference.ts";
import { argmax } from "../engine/sample.ts";

const [path, warm, measured] = [Deno.args[0]!, Number(Deno.args[1]), Number(Deno.args[2])];
const collect = (globalThis as unknown as { gc: () => void }).gc;
await using cpu = await CpuBackend.create({ threads: 2 });
using gguf = await openGGUF(path);
const model = await ReferenceModel.load(gguf, {
  maxContext: warm + measured + 1,
  numerics: "ggml",
  backend: cpu,
});
let token = 1;
const step = (pos: number) => {
  token = argmax(model.forward(token, pos));
};
for (let pos = 0; pos < warm; pos++) step(pos);
collect();
const before = Deno.memoryUsage().heapUsed;
for (let pos = warm; pos < warm + measured; pos++) step(pos);
const after = Deno.memoryUsage().heapUsed;
console.log(JSON.stringify({ tokens: measured, heapGrowth: after - before }));
