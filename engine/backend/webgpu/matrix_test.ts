/**
 * Every WGSL mat-vec against the plain TypeScript reference with ggml's activation rounding, on
 * whatever adapter there is (Mesa's llvmpipe in CI). Weights come from each format's reference
 * quantizer where it has one, else from random bytes with sane scales.
 */
import assert from "node:assert/strict";
import { Prng } from "../../synth/prng.ts";
import { ReferenceMatrix } from "../../model/matrix.ts";
import { roundActivations, type VecDotType, vecDotType } from "../../quant/activations.ts";
import { writeF16 } from "../../quant/float.ts";
import { writeIq1mScale } from "../../quant/iq1_m.ts";
import { quantFormat } from "../../quant/registry.ts";
import { fieldOffset, ggmlType, rowByteSize } from "../../quant/types.ts";
import { openGpu } from "./device.ts";
import { GPU_TYPES, GpuKernels } from "./kernels.ts";
import { GpuMatMul, GpuMatrix, multiplyOnce, roundOnGpu } from "./matrix.ts";
import { readBack, STORAGE, Transients } from "./buffers.ts";

const gpu = await openGpu();
const unavailable = "unavailable" in gpu ? gpu.unavailable : null;
if (unavailable) console.warn(`WebGPU kernel tests skipped: ${unavailable}`);
const kernels = "unavailable" in gpu ? null : new GpuKernels(gpu.device);

/** `bytes` (a matrix of `rows` × `cols` of `type`) in a GPU buffer. */
function upload(type: string, rows: number, cols: number, bytes: Uint8Array): Promise<GpuMatrix> {
  return GpuMatrix.upload(kernels!.device, type, rows, cols, bytes.length, read(bytes));
}

/** A tensor reader over bytes in memory. */
const read = (bytes: Uint8Array) => (into: Uint8Array, at: number) => {
  into.set(bytes.subarray(at, at + into.length));
  return Promise.resolve();
};

/** Random blocks of `type`: every field random, f16 scales set small enough to stay finite. */
function randomMatrix(
  type: string,
  rows: number,
  cols: number,
  prng: Prng,
): Uint8Array<ArrayBuffer> {
  const ggml = ggmlType(type);
  const bytes = new Uint8Array(rows * rowByteSize(ggml, cols));
  for (let i = 0; i < bytes.length; i++) bytes[i] = prng.nextU32() & 0xff;
  const view = new DataView(bytes.buffer);
  const has = (field: string) => ggml.fields.some((f) => f.name === field);
  if (type === "F32") {
    for (let i = 0; i < bytes.length; i += 4) view.setFloat32(i, prng.uniform(1), true);
  } else if (type === "F16") {
    for (let i = 0; i < bytes.length; i += 2) writeF16(view, i, prng.uniform(1));
  } else if (type === "BF16") {
    for (let i = 0; i < bytes.length; i += 2) {
      view.setUint16(i, new Uint32Array(Float32Array.of(prng.uniform(1)).buffer)[0]! >>> 16, true);
    }
  } else {
    for (let block = 0; block < bytes.length; block += ggml.bytesPerBlock) {
      for (const field of ["d", "dmin"].filter(has)) {
        writeF16(view, block + fieldOffset(ggml, field), prng.uniform(0.01));
      }
      // a large minimum: what the Q8_1 block sums add to Q4_1/Q5_1 then shows
      if (has("m")) writeF16(view, block + fieldOffset(ggml, "m"), prng.uniform(1));
      // IQ1_M keeps its f16 scale in the top nibbles of its scales
      if (type === "IQ1_M") writeIq1mScale(view, block, prng.uniform(0.01));
    }
  }
  return bytes;
}

for (const type of GPU_TYPES) {
  Deno.test({
    name: `WGSL mat-vec equals the reference with ggml's rounding: ${type}`,
    ignore: unavailable !== null,
    async fn() {
      const prng = new Prng(7);
      const rows = 37; // not a multiple of anything
      const cols = 512;
      const count = 11; // a mat-mat workgroup's 8 tokens and a part
      const bytes = randomMatrix(type, rows, cols, prng);
      const x = Float32Array.from({ length: count * cols }, () => prng.uniform(2));
      const reference = new ReferenceMatrix(quantFormat(type), rows, cols, bytes, vecDotType(type));
      const expected = new Float32Array(count * rows);
      reference.matMul(x, count, expected);
      const matrix = await upload(type, rows, cols, bytes);
      try {
        const got = await multiplyOnce(kernels!, matrix, x, count);
        // the batch went through the mat-mat: the mat-vec's sums, bit for bit, and the same
        // without batching
        for (let t = 0; t < count; t++) {
          const one = await multiplyOnce(kernels!, matrix, x.slice(t * cols, (t + 1) * cols), 1);
          assert.deepEqual([...got.subarray(t * rows, (t + 1) * rows)], [...one], `token ${t}`);
        }
        const unbatched = await multiplyOnce(kernels!, matrix, x, count, undefined, false);
        assert.deepEqual([...unbatched], [...got]);
        // f32 sums of the products (exact weights, once-rounded products) in another order:
        // within ~40 roundings of the sum of |terms|
        const decoded = new Float32Array(cols);
        for (let t = 0; t < count; t++) {
          for (let r = 0; r < rows; r++) {
            reference.decodeRow(r, decoded);
            let magnitude = 0;
            for (let c = 0; c < cols; c++) magnitude += Math.abs(decoded[c]! * x[t * cols + c]!);
            const at = t * rows + r;
            assert.ok(
              Math.abs(got[at]! - expected[at]!) <= 40 * 2 ** -24 * magnitude,
              `${type} token ${t} row ${r}: ${got[at]} vs ${expected[at]} (scale ${magnitude})`,
            );
          }
        }
      } finally {
        matrix.buffer.destroy();
      }
    },
  });
}

Deno.test({
  name: "WGSL mat-vec of a matrix larger than one binding runs in windows of rows",
  ignore: unavailable !== null,
  async fn() {
    const prng = new Prng(11);
    const [rows, cols, count] = [40, 64, 2];
    // Q4_0 rows of 36 bytes behind 2 rows of padding: slices start off the 256-byte alignment
    const stacked = randomMatrix("Q4_0", rows + 2, cols, prng);
    const x = Float32Array.from({ length: count * cols }, () => prng.uniform(2));
    const whole = await upload("Q4_0", rows + 2, cols, stacked);
    const matrix = new GpuMatrix("Q4_0", rows, cols, whole.buffer, 2 * Q4_0_ROW_BYTES);
    try {
      const expected = await multiplyOnce(kernels!, matrix, x, count);
      // bindings of 300 bytes: one or two rows per window, at offsets 0, 256, 512, …
      const windowed = await multiplyOnce(kernels!, matrix, x, count, 300);
      assert.deepEqual([...windowed], [...expected]);
      const reference = new ReferenceMatrix(
        quantFormat("Q4_0"),
        rows,
        cols,
        stacked.subarray(2 * Q4_0_ROW_BYTES),
        vecDotType("Q4_0"),
      );
      const exact = new Float32Array(count * rows);
      reference.matMul(x, count, exact);
      for (let i = 0; i < exact.length; i++) assert.ok(Math.abs(exact[i]! - expected[i]!) < 1e-3);
    } finally {
      whole.buffer.destroy();
    }
  },
});

Deno.test({
  name: "WGSL mat-vec over a stack of per-head matrices: row t·heads + h through matrix h",
  ignore: unavailable !== null,
  async fn() {
    const prng = new Prng(13);
    // latent attention's absorbed key projection: 3 heads of (20 × 64), 2 tokens, each head's
    // output 20 values at a stride of 24 within a token's row of 72
    const [heads, rows, cols, count, headStride] = [3, 20, 64, 2, 24];
    const bytes = randomMatrix("Q8_0", heads * rows, cols, prng);
    const x = Float32Array.from({ length: count * heads * cols }, () => prng.uniform(2));
    const stack = await upload("Q8_0", heads * rows, cols, bytes);
    const device = kernels!.device;
    const transients = new Transients(device);
    const matMul = await GpuMatMul.create(kernels!, ["Q8_0"], x.length, transients);
    const width = heads * headStride;
    const out = device.createBuffer({ size: count * width * 4, usage: STORAGE });
    try {
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      const first = stack.slice(0, heads);
      matMul.record(pass, first, transients.floats(x), out, count, 0, width, {
        count: heads,
        outStride: headStride,
      });
      pass.end();
      device.queue.submit([encoder.finish()]);
      const got = new Float32Array(await readBack(device, out), 0, count * width);
      const format = quantFormat("Q8_0");
      const headBytes = bytes.length / heads;
      for (let h = 0; h < heads; h++) {
        const matrix = new ReferenceMatrix(
          format,
          rows,
          cols,
          bytes.subarray(h * headBytes, (h + 1) * headBytes),
          vecDotType("Q8_0"),
        );
        const expected = new Float32Array(rows);
        for (let t = 0; t < count; t++) {
          const row = t * heads + h;
          matrix.matVec(x.subarray(row * cols, (row + 1) * cols), expected);
          const at = t * width + h * headStride;
          for (let r = 0; r < rows; r++) {
            assert.ok(
              Math.abs(got[at + r]! - expected[r]!) < 1e-4,
              `head ${h} token ${t} row ${r}`,
            );
          }
        }
      }
    } finally {
      transients.release();
      matMul.destroy();
      stack.buffer.destroy();
      out.destroy();
    }
  },
});

Deno.test({
  name: "WGSL mat-mat over long rows (many blocks per thread): the mat-vec's sums",
  ignore: unavailable !== null,
  async fn() {
    const prng = new Prng(17);
    // rows of hundreds of blocks, their last round of the workgroup's threads part-filled
    for (const [type, cols] of [["F32", 8192], ["Q4_0", 25600], ["Q6_K", 20480]] as const) {
      const [rows, count] = [5, 9];
      const bytes = randomMatrix(type, rows, cols, prng);
      const x = Float32Array.from({ length: count * cols }, () => prng.uniform(2));
      const matrix = await upload(type, rows, cols, bytes);
      try {
        const batched = await multiplyOnce(kernels!, matrix, x, count);
        const unbatched = await multiplyOnce(kernels!, matrix, x, count, undefined, false);
        assert.deepEqual([...batched], [...unbatched], type);
        assert.ok(batched.some((value) => value !== 0), type);
      } finally {
        matrix.buffer.destroy();
      }
    }
  },
});

/** Bytes of a Q4_0 row of 64 values. */
const Q4_0_ROW_BYTES = 36;

/** Activations with every hard case of the rounding: ties, f16 subnormals and overflow, zeros. */
function hardActivations(prng: Prng): Float32Array<ArrayBuffer> {
  const x = new Float32Array(1024);
  for (let i = 0; i < 256; i++) x[i] = prng.uniform(2);
  // amax 127: x·127/amax is x itself, and k + 0.5 is a tie (Q8_K: −127/max = −1, ties too)
  x[256] = 127;
  for (let i = 257; i < 512; i++) x[i] = (i % 2 ? -1 : 1) * ((i % 120) + 0.5);
  // 512 … 767 stay zero: a block whose scale is zero
  const f16Cases = [
    1 + 2 ** -11,
    1 + 3 * 2 ** -11,
    2 ** -20,
    -(2 ** -25),
    3 * 2 ** -25,
    65519,
    65520,
    -1e5,
  ];
  for (let i = 768; i < 1024; i++) x[i] = f16Cases[i % f16Cases.length]! * (1 + (i % 3) * 2 ** -12);
  return x;
}

for (
  const [dotType, weightType] of [
    ["F32", "F32"],
    ["F16", "F16"],
    ["BF16", "BF16"],
    ["Q8_0", "Q8_0"],
    ["Q8_1", "Q4_1"],
    ["Q8_K", "Q4_K"],
  ] as [VecDotType, string][]
) {
  Deno.test({
    name: `WGSL activation rounding is ggml's, bit for bit: ${dotType}`,
    ignore: unavailable !== null,
    async fn() {
      const x = hardActivations(new Prng(3));
      const expected = new Float32Array(x.length);
      const expectedErrors = new Float32Array(x.length / 32);
      roundActivations(dotType, x, expected, expectedErrors);
      const got = await roundOnGpu(kernels!, weightType, x);
      for (let i = 0; i < x.length; i++) {
        assert.ok(
          got.rounded[i] === expected[i],
          `${dotType} value ${i} (${x[i]}): ${got.rounded[i]} vs ${expected[i]}`,
        );
      }
      if (dotType === "Q8_1") assert.deepEqual([...got.sumErrors], [...expectedErrors]);
    },
  });
}
