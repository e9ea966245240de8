/**
 * A small seeded PRNG (sfc32, seeded through splitmix32) whose output is the same on every
 * machine: it uses only 32-bit integer arithmetic, and `uniform` only exact float operations.
 *
 * @example
 * ```ts
 * import { Prng } from "./prng.ts";
 * const a = Prng.forStream(42, "blk.0.attn_q.weight");
 * const b = Prng.forStream(42, "blk.0.attn_q.weight");
 * console.log(a.nextU32() === b.nextU32()); // true
 * ```
 * @module
 */

/** sfc32: four 32-bit words of state, passes PractRand to many terabytes. */
export class Prng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const splitmix = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = splitmix();
    this.#b = splitmix();
    this.#c = splitmix();
    this.#d = 1;
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  /**
   * An independent stream for one named purpose (e.g. one tensor), so that every tensor's
   * values depend only on the seed and its name, not on the order tensors are generated in.
   */
  static forStream(seed: number, name: string): Prng {
    return new Prng(fnv1a(name) ^ Math.imul(seed >>> 0, 0x27d4eb2f));
  }

  nextU32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [-limit, limit): 24 random bits, so every value is exact in f32. */
  uniform(limit: number): number {
    return ((this.nextU32() >>> 8) * 2 ** -23 - 1) * limit;
  }

  /** Fills `out` with `center + uniform(limit)` (the same values as calling `uniform` in turn). */
  fillUniform(out: Float32Array, limit: number, center = 0): void {
    for (let i = 0; i < out.length; i++) {
      out[i] = center + ((this.nextU32() >>> 8) * 2 ** -23 - 1) * limit;
    }
  }
}

/** FNV-1a hash of a string's UTF-16 code units. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  }
  return hash >>> 0;
}
