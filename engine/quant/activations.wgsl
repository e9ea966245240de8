// What ggml's CPU dot products do to activations (activations.ts says why and how). The float
// entry points write the rounded values; the Q8 ones write each block as ggml stores it: the
// integer quants (as f32, exact), and per 32 values the block's scale d and (Q8_1) its stored
// sum, so that the mat-vecs sum integer products exactly as ggml does and scale once per block.
// One invocation per block. Needs round_f16.wgsl.

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> rounded: array<f32>;
// per 32 values: (d, ggml's stored f16 block sum); a Q8_K block's d in each of its eight
@group(0) @binding(2) var<storage, read_write> blocks: array<vec2f>;

struct Length {
  values: u32,
}
@group(0) @binding(3) var<uniform> length: Length;

const WORKGROUP: u32 = 64u;

fn index_of(id: vec3u) -> u32 {
  return id.x + id.y * 65535u * WORKGROUP;
}

@compute @workgroup_size(WORKGROUP)
fn round_f32(@builtin(global_invocation_id) id: vec3u) {
  let i = index_of(id);
  if (i < length.values) {
    rounded[i] = x[i];
  }
}

@compute @workgroup_size(WORKGROUP)
fn round_f16(@builtin(global_invocation_id) id: vec3u) {
  let i = index_of(id);
  if (i < length.values) {
    rounded[i] = round_to_f16(x[i]);
  }
}

// GGML_FP32_TO_BF16: nearest even on the top 16 bits
@compute @workgroup_size(WORKGROUP)
fn round_bf16(@builtin(global_invocation_id) id: vec3u) {
  let i = index_of(id);
  if (i < length.values) {
    let bits = bitcast<u32>(x[i]);
    rounded[i] = bitcast<f32>(((bits + 0x7fffu + ((bits >> 16u) & 1u)) >> 16u) << 16u);
  }
}

// Q8_0 and Q8_1 blocks of 32: d = f16(amax/127), q = round-half-even(x·127/amax); Q8_1 also
// stores f16(amax/127 · Σq)
fn round_q8_32(block: u32, with_sum: bool) {
  let first = block * 32u;
  var amax = 0.0;
  for (var j = 0u; j < 32u; j++) {
    amax = max(amax, abs(x[first + j]));
  }
  let scale = amax / 127.0;
  let d = round_to_f16(scale);
  let inverse = select(0.0, 127.0 / amax, amax != 0.0);
  var quant_sum = 0.0;
  for (var j = 0u; j < 32u; j++) {
    let q = round(x[first + j] * inverse);
    quant_sum += q;
    rounded[first + j] = q;
  }
  blocks[block] = vec2f(d, select(0.0, round_to_f16(scale * quant_sum), with_sum));
}

@compute @workgroup_size(WORKGROUP)
fn round_q8_0(@builtin(global_invocation_id) id: vec3u) {
  let block = index_of(id);
  if (block < length.values / 32u) {
    round_q8_32(block, false);
  }
}

@compute @workgroup_size(WORKGROUP)
fn round_q8_1(@builtin(global_invocation_id) id: vec3u) {
  let block = index_of(id);
  if (block < length.values / 32u) {
    round_q8_32(block, true);
  }
}

// Q8_K blocks of 256: scale −127/max, max the signed value of largest magnitude
@compute @workgroup_size(WORKGROUP)
fn round_q8_k(@builtin(global_invocation_id) id: vec3u) {
  let block = index_of(id);
  if (block >= length.values / 256u) {
    return;
  }
  let first = block * 256u;
  var amax = 0.0;
  var signed_max = 0.0;
  for (var j = 0u; j < 256u; j++) {
    let value = x[first + j];
    if (abs(value) > amax) {
      amax = abs(value);
      signed_max = value;
    }
  }
  var d = 0.0;
  var inverse_scale = 0.0;
  if (amax != 0.0) {
    inverse_scale = -127.0 / signed_max;
    d = 1.0 / inverse_scale;
  }
  for (var j = 0u; j < 256u; j++) {
    rounded[first + j] = min(127.0, round(inverse_scale * x[first + j]));
  }
  for (var sub = 0u; sub < 8u; sub++) {
    blocks[block * 8u + sub] = vec2f(d, 0.0);
  }
}
