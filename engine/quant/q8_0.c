// Q8_0 × Q8_0 (block layout in q8_0.ts): x = d·q.
#include "../backend/cpu/kernels.h"

static inline v128_t block_dot(const block_q8_0 *w, const block_q8_0 *a) {
  const v128_t sum = wasm_i32x4_add(dot_i8x16(wasm_v128_load(w->qs), wasm_v128_load(a->qs)),
                                    dot_i8x16(wasm_v128_load(w->qs + 16), wasm_v128_load(a->qs + 16)));
  return scaled(sum, f16_to_f32(w->d) * f16_to_f32(a->d));
}

MATMUL_BY_BLOCKS(matvec_q8_0, block_q8_0, block_q8_0, QK, block_dot)
