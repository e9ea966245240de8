// Q4_1 × Q8_1 (block layout in q4_1.ts): x = d·q + m; the minimum meets the activation block's
// stored sum s, as ggml's dot product does.
#include "../backend/cpu/kernels.h"

typedef struct { f16_t d; f16_t m; uint8_t qs[QK / 2]; } block_q4_1;  // 20 bytes

static inline v128_t block_dot(const block_q4_1 *w, const block_q8_1 *a) {
  const v128_t packed = wasm_v128_load(w->qs);
  const v128_t low = wasm_v128_and(packed, wasm_i8x16_splat(0x0f));
  const v128_t high = wasm_u8x16_shr(packed, 4);
  const v128_t sum = wasm_i32x4_add(dot_i8x16(low, wasm_v128_load(a->qs)),
                                    dot_i8x16(high, wasm_v128_load(a->qs + 16)));
  const v128_t products = scaled(sum, f16_to_f32(w->d) * f16_to_f32(a->d));
  return wasm_f32x4_add(products, scalar_f32x4(f16_to_f32(w->m) * f16_to_f32(a->s)));
}

MATMUL_BY_BLOCKS(matvec_q4_1, block_q4_1, block_q8_1, QK, block_dot)
