// Causal attention over the KV cache (kv_cache.ts's ReferenceKvCache.attend): for each token of
// a batch and each query head, the softmax of its scaled scores against the keys of positions
// 0 … its own, then the weighted sum of their values. One workgroup per (head, token); the
// scores go through a scratch row per pair. Needs round_f16.wgsl and reduce.wgsl.

@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> queries: array<f32>;
@group(0) @binding(2) var<storage, read> keys: array<f32>;
@group(0) @binding(3) var<storage, read> values: array<f32>;
@group(0) @binding(4) var<storage, read_write> scores: array<f32>;

struct Params {
  heads: u32,
  kv_heads: u32,
  key_head_dim: u32,
  value_head_dim: u32,
  scale: f32,
  // the batch's first position, and the positions a scratch row holds
  pos: u32,
  context: u32,
  // llama.cpp's F16 cache: probabilities rounded to f16 before they weight the values
  round_probabilities: u32,
}
@group(0) @binding(5) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP)
fn attend(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) lane: u32) {
  let head = group.x;
  let token = group.y;
  let last = params.pos + token;
  let kv_head = head / (params.heads / params.kv_heads);
  let key_width = params.kv_heads * params.key_head_dim;
  let value_width = params.kv_heads * params.value_head_dim;
  let query = (token * params.heads + head) * params.key_head_dim;
  let row = (token * params.heads + head) * params.context;

  var local_max = -3.4028234663852886e38;
  for (var t = lane; t <= last; t += WORKGROUP) {
    let key = t * key_width + kv_head * params.key_head_dim;
    var sum = 0.0;
    for (var d = 0u; d < params.key_head_dim; d++) {
      sum += queries[query + d] * keys[key + d];
    }
    let score = sum * params.scale;
    scores[row + t] = score;
    local_max = max(local_max, score);
  }
  let top = reduce_max(lane, local_max);

  var local_sum = 0.0;
  for (var t = lane; t <= last; t += WORKGROUP) {
    let e = exp(scores[row + t] - top);
    scores[row + t] = e;
    local_sum += e;
  }
  let total = reduce_sum(lane, local_sum);
  // every thread's exponentials in place before any thread weighs the values with them
  storageBarrier();

  let first_value = kv_head * params.value_head_dim;
  let result = (token * params.heads + head) * params.value_head_dim;
  for (var d = lane; d < params.value_head_dim; d += WORKGROUP) {
    var acc = 0.0;
    for (var t = 0u; t <= last; t++) {
      var p = scores[row + t] / total;
      if (params.round_probabilities == 1u) {
        p = round_to_f16(p);
      }
      acc += p * values[t * value_width + first_value + d];
    }
    out[result + d] = acc;
  }
}
