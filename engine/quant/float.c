// F32, F16 and BF16 weights (see float.ts). F16 and BF16 rows meet activations converted to the
// same type, as ggml's dot products do; products are summed in f32.
#include "../backend/cpu/kernels.h"

// rows walked as "blocks" of four values
typedef struct { float v[4]; } f32x4_block;
static inline v128_t block_dot_f32(const f32x4_block *w, const f32x4_block *a) {
  return wasm_f32x4_mul(wasm_v128_load(w->v), wasm_v128_load(a->v));
}
MATMUL_BY_BLOCKS(matvec_f32, f32x4_block, f32x4_block, 4, block_dot_f32)

static inline v128_t block_dot_f16(const f16_t *w, const f16_t *a) {
  return wasm_f32x4_make(f16_to_f32(w[0]) * f16_to_f32(a[0]), f16_to_f32(w[1]) * f16_to_f32(a[1]),
                         f16_to_f32(w[2]) * f16_to_f32(a[2]), f16_to_f32(w[3]) * f16_to_f32(a[3]));
}
typedef struct { f16_t v[4]; } f16x4;
static inline v128_t block_dot_f16x4(const f16x4 *w, const f16x4 *a) { return block_dot_f16(w->v, a->v); }
MATMUL_BY_BLOCKS(matvec_f16, f16x4, f16x4, 4, block_dot_f16x4)

typedef struct { uint16_t v[4]; } bf16x4;
static inline v128_t widen_bf16(const uint16_t *v) {
  // bf16 is the top half of an f32
  const v128_t halves = wasm_v128_load64_zero(v);
  return wasm_i16x8_shuffle(wasm_i16x8_splat(0), halves, 0, 8, 1, 9, 2, 10, 3, 11);
}
static inline v128_t block_dot_bf16x4(const bf16x4 *w, const bf16x4 *a) {
  return wasm_f32x4_mul(widen_bf16(w->v), widen_bf16(a->v));
}
MATMUL_BY_BLOCKS(matvec_bf16, bf16x4, bf16x4, 4, block_dot_bf16x4)
