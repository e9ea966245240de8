import assert from "node:assert/strict";
import { Sampler } from "./sample.ts";

const logits = Float32Array.from([0, 5, 4, 3, -1, 2]);

Deno.test("greedy sampling picks the largest logit", () => {
  assert.equal(new Sampler().sample(logits, []), 1);
});

Deno.test("the repetition penalty demotes recent tokens", () => {
  const sampler = new Sampler({ repeatPenalty: 2 });
  assert.equal(sampler.sample(logits, [1]), 2, "5/2 = 2.5 < 4");
  const recent = new Sampler({ repeatPenalty: 2, repeatLastN: 2 });
  assert.equal(recent.sample(logits, [1, 3, 3]), 1, "only the last 2 tokens are penalised");
});

Deno.test("top-k, top-p and min-p restrict the candidates", () => {
  const draws = (options: ConstructorParameters<typeof Sampler>[0]) => {
    const sampler = new Sampler({ temperature: 1, seed: 3, ...options });
    return new Set(Array.from({ length: 400 }, () => sampler.sample(logits, [])));
  };
  assert.deepStrictEqual([...draws({ topK: 2 })].sort(), [1, 2]);
  assert.deepStrictEqual([...draws({ topK: 1 })], [1]);
  // p(5) ≈ 0.64, p(4) ≈ 0.24: top-p 0.8 keeps those two
  assert.deepStrictEqual([...draws({ topP: 0.8 })].sort(), [1, 2]);
  // min-p 0.3 keeps tokens at least 0.3 × p(best): e^-1 ≈ 0.37 passes, e^-2 ≈ 0.14 does not
  assert.deepStrictEqual([...draws({ minP: 0.3 })].sort(), [1, 2]);
  assert.ok(draws({}).size >= 5, "without limits every plausible token appears");
});

Deno.test("a seed reproduces the draws; temperature sharpens or flattens them", () => {
  const run = (seed: number, temperature: number) => {
    const sampler = new Sampler({ temperature, seed });
    return Array.from({ length: 50 }, () => sampler.sample(logits, []));
  };
  assert.deepStrictEqual(run(7, 1), run(7, 1));
  assert.notDeepStrictEqual(run(7, 1), run(8, 1));
  const share = (tokens: number[]) => tokens.filter((t) => t === 1).length / tokens.length;
  assert.ok(share(run(1, 0.2)) > share(run(1, 3)));
});

Deno.test("invalid options are refused with the flag's name", () => {
  assert.throws(() => new Sampler({ temperature: -1 }), /--temp must be ≥ 0/);
  assert.throws(() => new Sampler({ topP: 0 }), /--top-p must be in \(0, 1\]/);
  assert.throws(() => new Sampler({ minP: 1 }), /--min-p must be in \[0, 1\)/);
});
