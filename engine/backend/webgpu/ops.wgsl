// The operations between the mat-muls (vector_ops.ts and the forward pass's loops), in f32:
// RMS norm, RoPE, residual and bias adds, SwiGLU's gate, f16 rounding, moving rows (gathering an
// expert's tokens, storing keys and values) and the weighted sum of each token's experts. Every
// entry point takes the same bindings: `a` (written), `b` and `c` (read), and the parameters.
// Needs round_f16.wgsl and reduce.wgsl.

@group(0) @binding(0) var<storage, read_write> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> c: array<f32>;

struct Params {
  // rms_norm: rows of `width` values, `stride` apart; copy_rows, mix_rows: rows of `width`;
  // copy_columns: `width` values from `source_offset` of rows `source_stride` apart in b to
  // `offset` of rows `stride` apart in a; rope: rows of `width` values, each with
  // `segments` segments of `stride` whose values from `offset` rotate in `half` pairs;
  // elementwise: `width` values
  width: u32,
  rows: u32,
  epsilon: f32,
  half: u32,
  segments: u32,
  stride: u32,
  offset: u32,
  // rope: 0 pairs (2i, 2i+1), 1 pairs (i, i + half) (NeoX)
  neox: u32,
  // add: b repeats every `period` values (a bias added to every row)
  period: u32,
  // mix_rows: rows of b per row of a; 1 to add to a rather than overwrite it; 1 to take the
  // sigmoid of each weight (qwen2moe's shared expert gate)
  ranks: u32,
  accumulate: u32,
  sigmoid_weights: u32,
  source_stride: u32,
  source_offset: u32,
}
@group(0) @binding(3) var<uniform> params: Params;


fn flat_index(id: vec3u) -> u32 {
  return id.x + id.y * 65535u * WORKGROUP;
}

// a[row] = b[row] / sqrt(mean(b[row]²) + ε) ⊙ c: one workgroup per row
@compute @workgroup_size(WORKGROUP)
fn rms_norm(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) lane: u32) {
  let row = group.x + group.y * 65535u;
  let first = row * params.stride;
  var squares = 0.0;
  if (row < params.rows) {
    for (var i = lane; i < params.width; i += WORKGROUP) {
      squares += b[first + i] * b[first + i];
    }
  }
  let total = reduce_sum(lane, squares);
  if (row < params.rows) {
    let scale = 1.0 / sqrt(total / f32(params.width) + params.epsilon);
    for (var i = lane; i < params.width; i += WORKGROUP) {
      a[first + i] = b[first + i] * scale * c[i];
    }
  }
}

// Rotates pairs of a's values in place by row `row`'s angles: b holds the cosines and c the
// sines, `half` per row. One invocation per (row, segment, pair).
@compute @workgroup_size(WORKGROUP)
fn rope(@builtin(global_invocation_id) id: vec3u) {
  let index = flat_index(id);
  let pair = index % params.half;
  let segment = (index / params.half) % params.segments;
  let row = index / (params.half * params.segments);
  if (row >= params.rows) {
    return;
  }
  let at = row * params.width + segment * params.stride + params.offset;
  var first = at + 2u * pair;
  var second = first + 1u;
  if (params.neox == 1u) {
    first = at + pair;
    second = first + params.half;
  }
  let cos = b[row * params.half + pair];
  let sin = c[row * params.half + pair];
  let x0 = a[first];
  let x1 = a[second];
  a[first] = x0 * cos - x1 * sin;
  a[second] = x0 * sin + x1 * cos;
}

// a += b over `width` values, b repeating every `period` (= width for an elementwise add)
@compute @workgroup_size(WORKGROUP)
fn add(@builtin(global_invocation_id) id: vec3u) {
  let i = flat_index(id);
  if (i < params.width) {
    a[i] += b[i % params.period];
  }
}

// Row `c[2j + 1]` of a = row `c[2j]` of b, for j < `rows` (row numbers stored as f32, exact
// below 2^24)
@compute @workgroup_size(WORKGROUP)
fn copy_rows(@builtin(global_invocation_id) id: vec3u) {
  let i = flat_index(id);
  let j = i / params.width;
  if (j < params.rows) {
    let column = i % params.width;
    let source_row = u32(c[2u * j]);
    let target_row = u32(c[2u * j + 1u]);
    a[target_row * params.width + column] = b[source_row * params.width + column];
  }
}

// Columns [offset, offset + width) of a's rows = columns [source_offset, …) of b's, for
// `rows` rows (latent attention's query and key parts)
@compute @workgroup_size(WORKGROUP)
fn copy_columns(@builtin(global_invocation_id) id: vec3u) {
  let i = flat_index(id);
  let row = i / params.width;
  if (row < params.rows) {
    let column = i % params.width;
    a[row * params.stride + params.offset + column] =
      b[row * params.source_stride + params.source_offset + column];
  }
}

// Row i of a (+)= Σ_r w(i, r) · row (i·ranks + r) of b, ranks in order, for i < `rows`: each
// token's expert outputs weighted by the router (w = c[i·ranks + r], or its sigmoid)
@compute @workgroup_size(WORKGROUP)
fn mix_rows(@builtin(global_invocation_id) id: vec3u) {
  let i = flat_index(id);
  let row = i / params.width;
  if (row >= params.rows) {
    return;
  }
  let column = i % params.width;
  var sum = 0.0;
  if (params.accumulate == 1u) {
    sum = a[i];
  }
  for (var r = 0u; r < params.ranks; r++) {
    var weight = c[row * params.ranks + r];
    if (params.sigmoid_weights == 1u) {
      weight = 1.0 / (1.0 + exp(-weight));
    }
    sum += weight * b[(row * params.ranks + r) * params.width + column];
  }
  a[i] = sum;
}

// SwiGLU's gate: a = silu(a) ⊙ b over `width` values
@compute @workgroup_size(WORKGROUP)
fn swiglu(@builtin(global_invocation_id) id: vec3u) {
  let i = flat_index(id);
  if (i < params.width) {
    a[i] = a[i] / (1.0 + exp(-a[i])) * b[i];
  }
}

// a = a rounded to f16 precision, over `width` values (llama.cpp's F16 KV cache and the queries
// matched to it)
@compute @workgroup_size(WORKGROUP)
fn round_f16_in_place(@builtin(global_invocation_id) id: vec3u) {
  let i = flat_index(id);
  if (i < params.width) {
    a[i] = round_to_f16(a[i]);
  }
}
