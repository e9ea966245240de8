// IQ4_NL × Q8_0 (block layout in iq4_nl.ts): x = d·kvalues[q], a non-linear 4-bit grid.
#include "../backend/cpu/kernels.h"

typedef struct { f16_t d; uint8_t qs[QK / 2]; } block_iq4_nl;  // 18 bytes

static inline v128_t block_dot(const block_iq4_nl *w, const block_q8_0 *a) {
  const v128_t packed = wasm_v128_load(w->qs);
  const v128_t low = wasm_i8x16_swizzle(IQ4_GRID, wasm_v128_and(packed, wasm_i8x16_splat(0x0f)));
  const v128_t high = wasm_i8x16_swizzle(IQ4_GRID, wasm_u8x16_shr(packed, 4));
  const v128_t sum = wasm_i32x4_add(dot_i8x16(low, wasm_v128_load(a->qs)),
                                    dot_i8x16(high, wasm_v128_load(a->qs + 16)));
  return scaled(sum, f16_to_f32(w->d) * f16_to_f32(a->d));
}

MATMUL_BY_BLOCKS(matvec_iq4_nl, block_iq4_nl, block_q8_0, QK, block_dot)
