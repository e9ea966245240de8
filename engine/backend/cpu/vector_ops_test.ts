import assert from "node:assert/strict";
import { referenceVectorOps } from "../../model/vector_ops.ts";
import { Prng } from "../../synth/prng.ts";
import { CpuBackend } from "./backend.ts";

Deno.test("the CPU's RMS norm and RoPE give the reference's bits, on its buffers or on others", async () => {
  await using cpu = await CpuBackend.create({ threads: 1 });
  const prng = new Prng(21);
  const length = 96;
  const values = Float32Array.from({ length }, () => prng.uniform(3));
  const weight = Float32Array.from({ length }, () => 1 + prng.uniform(0.5));
  const angles = Float64Array.from({ length: 2 * 24 }, (_, i) => 0.37 * i);
  const cos = angles.map(Math.cos);
  const sin = angles.map(Math.sin);
  const onCpu = {
    x: cpu.floats(length),
    out: cpu.floats(length),
    weight: cpu.floats(length),
    cos: cpu.doubles(cos.length),
    sin: cpu.doubles(sin.length),
  };
  onCpu.weight.set(weight);
  onCpu.cos.set(cos);
  onCpu.sin.set(sin);
  for (const [at, part] of [[0, length], [32, 32]]) {
    const expected = new Float32Array(length);
    referenceVectorOps.rmsNorm(expected, values, weight, 1e-6, at!, part!);
    onCpu.x.set(values);
    cpu.ops.rmsNorm(onCpu.out, onCpu.x, onCpu.weight, 1e-6, at!, part!);
    assert.deepStrictEqual(onCpu.out.subarray(at, at! + part!), expected.subarray(at, at! + part!));
    const elsewhere = new Float32Array(length);
    cpu.ops.rmsNorm(elsewhere, values, weight, 1e-6, at!, part!);
    assert.deepStrictEqual(elsewhere, expected);
  }
  for (const style of ["normal", "neox"] as const) {
    const expected = values.slice();
    referenceVectorOps.rope(expected, 16, cos, sin, 24, 12, style);
    onCpu.x.set(values);
    cpu.ops.rope(onCpu.x, 16, onCpu.cos, onCpu.sin, 24, 12, style);
    assert.deepStrictEqual(onCpu.x.slice(), expected, style);
    const elsewhere = values.slice();
    cpu.ops.rope(elsewhere, 16, cos, sin, 24, 12, style);
    assert.deepStrictEqual(elsewhere, expected, `${style}, JS arrays`);
  }
});
