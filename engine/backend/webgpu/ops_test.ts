/**
 * The GPU's vector operations and attention against the TypeScript reference, on whatever
 * adapter there is (llvmpipe in CI). The GPU computes in f32 where the reference keeps f64
 * intermediates: results agree to a few f32 roundings; f16 rounding agrees bit for bit.
 */
import assert from "node:assert/strict";
import { Prng } from "../../synth/prng.ts";
import { roundToF16 } from "../../quant/activations.ts";
import { ReferenceKvCache } from "../../model/kv_cache.ts";
import { referenceVectorOps } from "../../model/vector_ops.ts";
import { readBack, STORAGE } from "./buffers.ts";
import { openGpu } from "./device.ts";
import { GpuOps } from "./ops.ts";

const gpu = await openGpu();
const unavailable = "unavailable" in gpu ? gpu.unavailable : null;
if (unavailable) console.warn(`WebGPU op tests skipped: ${unavailable}`);
const device = "unavailable" in gpu ? null : gpu.device;
const ops = device ? await GpuOps.create(device) : null;

function upload(values: Float32Array<ArrayBuffer>): GPUBuffer {
  const buffer = device!.createBuffer({ size: Math.max(16, values.byteLength), usage: STORAGE });
  device!.queue.writeBuffer(buffer, 0, values);
  return buffer;
}

/** Runs `record` in one compute pass and reads `result` back. */
async function run(
  record: (pass: GPUComputePassEncoder) => void,
  result: GPUBuffer,
  length: number,
): Promise<Float32Array> {
  const encoder = device!.createCommandEncoder();
  const pass = encoder.beginComputePass();
  record(pass);
  pass.end();
  device!.queue.submit([encoder.finish()]);
  const values = new Float32Array(await readBack(device!, result), 0, length);
  ops!.release();
  return values;
}

function random(length: number, prng: Prng, limit = 2): Float32Array<ArrayBuffer> {
  const values = new Float32Array(length);
  prng.fillUniform(values, limit);
  return values;
}

function assertClose(got: Float32Array, expected: Float32Array, relative: number, what: string) {
  for (let i = 0; i < expected.length; i++) {
    const tolerance = relative * Math.max(1, Math.abs(expected[i]!));
    assert.ok(
      Math.abs(got[i]! - expected[i]!) <= tolerance,
      `${what} value ${i}: ${got[i]} vs ${expected[i]}`,
    );
  }
}

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name: `WebGPU ${name}`, ignore: unavailable !== null, fn });

test("RMS norm equals the reference per row", async () => {
  const prng = new Prng(1);
  const rows = 3;
  const width = 200;
  const x = random(rows * width, prng);
  const weight = random(width, prng);
  const expected = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    referenceVectorOps.rmsNorm(expected, x, weight, 1e-6, r * width, width);
  }
  // the reference norms a span of x in place of out: per row, out and x share offsets
  const [xs, ws, out] = [upload(x), upload(weight), upload(new Float32Array(rows * width))];
  const got = await run(
    (pass) => ops!.rmsNorm(pass, out, xs, ws, rows, width, 1e-6),
    out,
    rows * width,
  );
  assertClose(got, expected, 1e-5, "rms norm");
});

test("RMS norm of the first values of strided rows leaves the rest; column copies move spans", async () => {
  const prng = new Prng(5);
  // latent attention's key rows: 48 latent values normalised, 16 RoPE values copied after them
  const [rows, width, stride, tail] = [3, 48, 64, 16];
  const x = random(rows * stride, prng);
  const weight = random(width, prng);
  const expected = new Float32Array(rows * stride).fill(7);
  for (let r = 0; r < rows; r++) {
    referenceVectorOps.rmsNorm(expected, x, weight, 1e-6, r * stride, width);
    expected.set(x.subarray(r * stride + width, (r + 1) * stride), r * stride + width);
  }
  const [xs, ws, out] = [
    upload(x),
    upload(weight),
    upload(new Float32Array(rows * stride).fill(7)),
  ];
  const normed = await run(
    (pass) => ops!.rmsNorm(pass, out, xs, ws, rows, width, 1e-6, stride),
    out,
    rows * stride,
  );
  // the tails untouched (7) until copied
  for (let r = 0; r < rows; r++) {
    assert.deepEqual(
      [...normed.subarray(r * stride + width, (r + 1) * stride)],
      new Array(tail).fill(7),
    );
  }
  const got = await run(
    (pass) =>
      ops!.copyColumns(
        pass,
        { buffer: out, stride, offset: width },
        { buffer: xs, stride, offset: width },
        rows,
        tail,
      ),
    out,
    rows * stride,
  );
  assertClose(got, expected, 1e-5, "strided norm and column copy");

  // rows of different strides and offsets: 4 spans of 5 from offset 3 of rows of 11, to offset
  // 1 of rows of 8
  const source = random(4 * 11, prng);
  const target = upload(new Float32Array(4 * 8));
  const moved = await run(
    (pass) =>
      ops!.copyColumns(
        pass,
        { buffer: target, stride: 8, offset: 1 },
        { buffer: upload(source), stride: 11, offset: 3 },
        4,
        5,
      ),
    target,
    4 * 8,
  );
  const plain = new Float32Array(4 * 8);
  for (let r = 0; r < 4; r++) plain.set(source.subarray(r * 11 + 3, r * 11 + 8), r * 8 + 1);
  assert.deepEqual([...moved], [...plain]);
});

for (const style of ["normal", "neox"] as const) {
  test(`RoPE (${style}) equals the reference, heads at an offset`, async () => {
    const prng = new Prng(2);
    // 2 tokens × 3 heads of 24 values, rotating 16 values from offset 8 of each (as latent
    // attention's RoPE part)
    const layout = { rows: 2, width: 72, segments: 3, stride: 24, offset: 8, half: 8, style };
    const x = random(layout.rows * layout.width, prng);
    const angles = Float64Array.from({ length: layout.rows * layout.half }, (_, i) => i * 0.37);
    const cos = angles.map(Math.cos);
    const sin = angles.map(Math.sin);
    const expected = x.slice();
    for (let r = 0; r < layout.rows; r++) {
      for (let h = 0; h < layout.segments; h++) {
        const at = r * layout.width + h * layout.stride + layout.offset;
        referenceVectorOps.rope(expected, at, cos, sin, r * layout.half, layout.half, style);
      }
    }
    const [xs, cs, ss] = [x, Float32Array.from(cos), Float32Array.from(sin)].map(upload);
    const got = await run((pass) => ops!.rope(pass, xs!, cs!, ss!, layout), xs!, x.length);
    assertClose(got, expected, 1e-6, style);
  });
}

test("add, SwiGLU's gate and f16 rounding equal the reference", async () => {
  const prng = new Prng(3);
  const length = 300;
  const [a, b] = [random(length, prng, 8), random(length, prng)];
  const sum = a.map((value, i) => value + b[i]!);
  const gated = a.map((g, i) => (g / (1 + Math.exp(-g))) * b[i]!);
  const rounded = a.slice();
  roundToF16(rounded, length);
  for (
    const [label, record, expected, relative] of [
      [
        "add",
        (pass: GPUComputePassEncoder, x: GPUBuffer, y: GPUBuffer) => ops!.add(pass, x, y, length),
        sum,
        0,
      ],
      [
        "swiglu",
        (pass: GPUComputePassEncoder, x: GPUBuffer, y: GPUBuffer) =>
          ops!.swiglu(pass, x, y, length),
        gated,
        1e-6,
      ],
      [
        "f16",
        (pass: GPUComputePassEncoder, x: GPUBuffer) => ops!.roundF16(pass, x, length),
        rounded,
        0,
      ],
    ] as const
  ) {
    const [x, y] = [upload(a.slice()), upload(b)];
    const got = await run((pass) => record(pass, x, y), x, length);
    assertClose(got, expected, relative, label);
  }
});

for (const roundProbabilities of [false, true]) {
  test(`attention over the KV cache equals the reference (F16 probabilities: ${roundProbabilities})`, async () => {
    const prng = new Prng(4);
    // grouped-query: 4 query heads on 2 key-value heads; 3 tokens at positions 70 … 72, so
    // the scores span more than one workgroup's stride
    const shape = { heads: 4, kvHeads: 2, keyHeadDim: 16, valueHeadDim: 12, scale: 0.25 };
    const context = 80;
    const [pos, count] = [70, 3];
    const positions = pos + count;
    const keys = random(positions * shape.kvHeads * shape.keyHeadDim, prng);
    const values = random(positions * shape.kvHeads * shape.valueHeadDim, prng);
    const queries = random(count * shape.heads * shape.keyHeadDim, prng);
    const cache = new ReferenceKvCache(shape, 1, context, roundProbabilities);
    cache.store(0, 0, positions, keys, values);
    const expected = new Float32Array(count * shape.heads * shape.valueHeadDim);
    cache.attend(0, pos, count, queries, expected);
    const buffers = {
      out: upload(new Float32Array(expected.length)),
      queries: upload(queries),
      keys: upload(keys),
      values: upload(values),
      scores: upload(new Float32Array(count * shape.heads * context)),
    };
    const got = await run(
      (pass) => ops!.attend(pass, buffers, shape, pos, count, context, roundProbabilities),
      buffers.out,
      expected.length,
    );
    assertClose(got, expected, 1e-5, "attention");
    if (roundProbabilities) {
      // the rounding is there: without it the reference is far further off
      const plain = new Float32Array(expected.length);
      const unrounded = new ReferenceKvCache(shape, 1, context, false);
      unrounded.store(0, 0, positions, keys, values);
      unrounded.attend(0, pos, count, queries, plain);
      const distance = (a: Float32Array) => a.reduce((sum, v, i) => sum + Math.abs(v - got[i]!), 0);
      assert.ok(
        distance(plain) > 10 * distance(expected),
        `${distance(plain)} vs ${distance(expected)}`,
      );
    }
  });
}

test("bias add, row moves and the weighted sum of experts equal plain loops", async () => {
  const prng = new Prng(5);
  const [rows, width, ranks] = [3, 40, 2];
  const x = random(rows * width, prng);
  const bias = random(width, prng);
  const biased = x.map((value, i) => value + bias[i % width]!);
  let xs = upload(x.slice());
  const added = await run(
    (pass) => ops!.add(pass, xs, upload(bias), rows * width, width),
    xs,
    x.length,
  );
  assertClose(added, biased, 0, "bias add");

  // rows 2 → 0 and 0 → 3 of a 4-row target; rows 1 and 2 keep their zeros
  const target = upload(new Float32Array(4 * width));
  xs = upload(x);
  const moved = await run(
    (pass) => ops!.copyRows(pass, target, xs, width, [2, 0, 0, 3]),
    target,
    4 * width,
  );
  const expectedMoves = new Float32Array(4 * width);
  expectedMoves.set(x.subarray(2 * width, 3 * width), 0);
  expectedMoves.set(x.subarray(0, width), 3 * width);
  assertClose(moved, expectedMoves, 0, "row moves");

  // rows·ranks expert outputs, weighted per token in rank order; then a sigmoid-gated add on top
  const outputs = random(rows * ranks * width, prng);
  const weights = random(rows * ranks, prng);
  const mixed = new Float32Array(rows * width);
  for (let i = 0; i < rows; i++) {
    for (let r = 0; r < ranks; r++) {
      for (let c = 0; c < width; c++) {
        mixed[i * width + c] = mixed[i * width + c]! +
          weights[i * ranks + r]! * outputs[(i * ranks + r) * width + c]!;
      }
    }
  }
  const gates = random(rows, prng);
  const gated = mixed.map((value, i) =>
    value + x[i]! / (1 + Math.exp(-gates[Math.floor(i / width)]!))
  );
  const out = upload(new Float32Array(rows * width));
  const [outputBuffer, weightBuffer] = [upload(outputs), upload(weights)];
  const got = await run(
    (pass) =>
      ops!.mixRows(pass, out, outputBuffer, weightBuffer, { count: rows, width, ranks }, {
        accumulate: false,
        sigmoid: false,
      }),
    out,
    rows * width,
  );
  assertClose(got, mixed, 1e-6, "weighted sum");
  const [xBuffer, gateBuffer] = [upload(x), upload(gates)];
  const gotGated = await run(
    (pass) =>
      ops!.mixRows(pass, out, xBuffer, gateBuffer, { count: rows, width, ranks: 1 }, {
        accumulate: true,
        sigmoid: true,
      }),
    out,
    rows * width,
  );
  assertClose(gotGated, gated, 1e-6, "sigmoid-gated add");
});
