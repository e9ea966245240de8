// Q5_0 × Q8_0 (block layout in q5_0.ts): x = d·(q − 16), the fifth bit of element j in bit j of qh.
#include "../backend/cpu/kernels.h"

typedef struct { f16_t d; uint8_t qh[4]; uint8_t qs[QK / 2]; } block_q5_0;  // 22 bytes

static inline v128_t block_dot(const block_q5_0 *w, const block_q8_0 *a) {
  uint32_t qh;
  __builtin_memcpy(&qh, w->qh, 4);
  const v128_t packed = wasm_v128_load(w->qs);
  const v128_t sixteen = wasm_i8x16_splat(16);
  const v128_t low = wasm_i8x16_sub(
      wasm_v128_or(wasm_v128_and(packed, wasm_i8x16_splat(0x0f)), q5_high_bits(qh, 0)), sixteen);
  const v128_t high = wasm_i8x16_sub(wasm_v128_or(wasm_u8x16_shr(packed, 4), q5_high_bits(qh, 16)), sixteen);
  const v128_t sum = wasm_i32x4_add(dot_i8x16(low, wasm_v128_load(a->qs)),
                                    dot_i8x16(high, wasm_v128_load(a->qs + 16)));
  return scaled(sum, f16_to_f32(w->d) * f16_to_f32(a->d));
}

MATMUL_BY_BLOCKS(matvec_q5_0, block_q5_0, block_q8_0, QK, block_dot)
