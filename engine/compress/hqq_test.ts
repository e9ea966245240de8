import assert from "node:assert/strict";
import { quantizer } from "../quant/registry.ts";
import { tensorByteSize } from "../quant/types.ts";
import { Prng } from "../synth/prng.ts";
import { HQQ_TYPES, hqqQuantize } from "./hqq.ts";

/** Weights as trained ones look: mostly Gaussian, with a few heavy outliers. */
function weights(count: number, seed: number): Float32Array {
  const prng = new Prng(seed);
  const gaussian = () => {
    let sum = 0;
    for (let i = 0; i < 12; i++) sum += prng.uniform(1);
    return sum / 2;
  };
  return Float32Array.from({ length: count }, (_, i) => gaussian() * (i % 97 === 0 ? 8 : 1));
}

/** Root mean square error of `bytes` (decoded as `type`) against `values`. */
function rmse(type: string, values: Float32Array, bytes: Uint8Array): number {
  const back = new Float32Array(values.length);
  quantizer(type).dequantize(bytes, back);
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += (back[i]! - values[i]!) ** 2;
  return Math.sqrt(sum / values.length);
}

for (const type of HQQ_TYPES) {
  Deno.test(`HQQ reconstructs ${type} strictly better than round-to-nearest, no block worse`, () => {
    const [rows, cols] = [64, 256];
    const values = weights(rows * cols, 3);
    const bytes = () => new Uint8Array(tensorByteSize(quantizer(type).type, [cols, rows]));
    const rtn = bytes();
    quantizer(type).quantize(values, rtn);
    const hqq = bytes();
    hqqQuantize(type, values, hqq);
    const [rtnError, hqqError] = [rmse(type, values, rtn), rmse(type, values, hqq)];
    console.log(
      `${type}: RMSE round-to-nearest ${rtnError.toFixed(5)}, HQQ ${hqqError.toFixed(5)}`,
    );
    // the K-quants gain less: ggml's quantizer already searches each sub-block's scale and minimum
    // (make_qkx2_quants), and their 6-bit rounding limits what any better fit keeps
    const gain = type.endsWith("_K") ? 0.005 : 0.01;
    assert.ok(hqqError < rtnError * (1 - gain), `${hqqError} vs ${rtnError}`);
    // block by block: never worse than ggml's own blocks
    const { blockSize, bytesPerBlock: blockBytes } = quantizer(type).type;
    for (let b = 0; b < values.length / blockSize; b++) {
      const slice = values.subarray(b * blockSize, (b + 1) * blockSize);
      const block = (all: Uint8Array) => all.subarray(b * blockBytes, (b + 1) * blockBytes);
      assert.ok(
        rmse(type, slice, block(hqq)) <= rmse(type, slice, block(rtn)) * (1 + 1e-6),
        `block ${b}`,
      );
    }
  });
}
