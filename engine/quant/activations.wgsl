// What ggml's CPU dot products do to activations (activations.ts says why and how): each entry
// point writes the values the converted blocks stand for, so a plain f32 dot product with the
// decoded weights equals ggml's up to summation order. One invocation per block. Needs
// round_f16.wgsl.

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> rounded: array<f32>;
// Q8_1: per block, ggml's stored f16 sum minus what the rounded values add up to
@group(0) @binding(2) var<storage, read_write> sum_errors: array<f32>;

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
// stores f16(amax/127 · Σq), whose difference from d·Σq goes to sum_errors
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
    rounded[first + j] = d * q;
  }
  if (with_sum) {
    sum_errors[block] = round_to_f16(scale * quant_sum) - d * quant_sum;
  }
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
  if (amax == 0.0) {
    for (var j = 0u; j < 256u; j++) {
      rounded[first + j] = 0.0;
    }
    return;
  }
  let inverse_scale = -127.0 / signed_max;
  let d = 1.0 / inverse_scale;
  for (var j = 0u; j < 256u; j++) {
    rounded[first + j] = d * min(127.0, round(inverse_scale * x[first + j]));
  }
}
