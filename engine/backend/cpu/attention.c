// Causal softmax attention over an f32 KV cache (engine/model/kv_cache.ts holds the TypeScript
// reference of the same steps). A job is a batch's (token, head) pairs, which the thread pool
// splits between threads; each thread has its own row of scores.
#include "kernels.h"

// e^x for x ≤ 0 (softmax's arguments after subtracting the maximum), four lanes at a time:
// x = n·ln2 + r with |r| ≤ ln2/2, e^r by its degree-6 Taylor polynomial (relative error < 3e-7),
// 2^n put into the exponent; below −87 the result is 0.
static inline v128_t exp_nonpositive(v128_t x) {
  const v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(x, wasm_f32x4_splat(1.44269504088896341f)));
  // ln2 in two parts, so that n·ln2 is subtracted without losing r's low bits
  v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693145751953125f)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, wasm_f32x4_splat(1.428606765330187045e-06f)));
  v128_t p = wasm_f32x4_splat(1.0f / 720);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f / 120));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f / 24));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f / 6));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(0.5f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f));
  const v128_t clamped = wasm_f32x4_max(n, wasm_f32x4_splat(-126));
  const v128_t power = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(clamped), wasm_i32x4_splat(127)), 23);
  const v128_t result = wasm_f32x4_mul(p, power);
  return wasm_v128_andnot(result, wasm_f32x4_lt(x, wasm_f32x4_splat(-87.0f)));
}

// Σ a·b over n values (n a multiple of 4), summed in f64 (products of f16-valued queries and keys
// are exact in f32)
static inline double dot_f32(const float *a, const float *b, uint32_t n) {
  v128_t sum = wasm_f64x2_splat(0);
  for (uint32_t i = 0; i < n; i += 4) {
    const v128_t products = wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i));
    sum = wasm_f64x2_add(sum, wasm_f64x2_promote_low_f32x4(products));
    sum = wasm_f64x2_add(sum, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(products, products, 2, 3, 0, 1)));
  }
  return wasm_f64x2_extract_lane(sum, 0) + wasm_f64x2_extract_lane(sum, 1);
}

// Units [first, last) of a batch's attention: unit u is token u / heads (at position pos0 + that
// index, attending positions 0 … its own) and query head u % heads, which reads key-value head
// head / (heads / kv_heads). Queries: rows of heads·key_dim; keys and values: the layer's cache,
// rows of kv_heads·key_dim and kv_heads·value_dim per position; out: rows of heads·value_dim.
// scale_bits: the f32 score scale's bits; round_f16: round probabilities to f16 before they
// weight the values, as llama.cpp does with its F16 cache; scores: max_context floats per thread.
void EXPORT(attend_f32)(uint32_t first, uint32_t last, uint32_t thread, const float *queries,
                        const float *keys, const float *values, float *out, uint32_t pos0,
                        uint32_t heads, uint32_t kv_heads, uint32_t key_dim, uint32_t value_dim,
                        uint32_t scale_bits, uint32_t round_f16, float *scores, uint32_t max_context) {
  union { uint32_t u; float f; } scale = {scale_bits};
  float *score = scores + thread * max_context;
  const uint32_t group = heads / kv_heads;
  const uint32_t key_width = kv_heads * key_dim;
  const uint32_t value_width = kv_heads * value_dim;
  for (uint32_t unit = first; unit < last; unit++) {
    const uint32_t token = unit / heads;
    const uint32_t head = unit % heads;
    const uint32_t kv_head = head / group;
    const uint32_t positions = pos0 + token + 1;
    const float *q = queries + token * heads * key_dim + head * key_dim;

    float max = -__builtin_inff();
    for (uint32_t t = 0; t < positions; t++) {
      score[t] = (float)(dot_f32(q, keys + t * key_width + kv_head * key_dim, key_dim) * scale.f);
      if (score[t] > max) max = score[t];
    }
    // pad the row to whole vectors with scores that exponentiate to 0
    const uint32_t padded = (positions + 3) & ~3u;
    for (uint32_t t = positions; t < padded; t++) score[t] = -__builtin_inff();
    // the sum in f64, as ggml's softmax sums
    v128_t sums = wasm_f64x2_splat(0);
    const v128_t shift = wasm_f32x4_splat(max);
    for (uint32_t t = 0; t < padded; t += 4) {
      const v128_t e = exp_nonpositive(wasm_f32x4_sub(wasm_v128_load(score + t), shift));
      wasm_v128_store(score + t, e);
      sums = wasm_f64x2_add(sums, wasm_f64x2_promote_low_f32x4(e));
      sums = wasm_f64x2_add(sums, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(e, e, 2, 3, 0, 1)));
    }
    const float inverse = (float)(1.0 / (wasm_f64x2_extract_lane(sums, 0) + wasm_f64x2_extract_lane(sums, 1)));

    float *o = out + token * heads * value_dim + head * value_dim;
    for (uint32_t d = 0; d < value_dim; d++) o[d] = 0;
    for (uint32_t t = 0; t < positions; t++) {
      float p = score[t] * inverse;
      if (round_f16) p = f16_to_f32(f32_to_f16(p));
      const v128_t weight = wasm_f32x4_splat(p);
      const float *v = values + t * value_width + kv_head * value_dim;
      for (uint32_t d = 0; d < value_dim; d += 4) {
        wasm_v128_store(o + d, wasm_f32x4_add(wasm_v128_load(o + d), wasm_f32x4_mul(weight, wasm_v128_load(v + d))));
      }
    }
  }
}
