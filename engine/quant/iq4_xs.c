// IQ4_XS × Q8_K (block layout in iq4_xs.ts): IQ4_NL's grid in super-blocks of 256 with 8 6-bit
// scales (low 4 bits in scales_l, high 2 in scales_h, stored +32); x = d·(scale − 32)·kvalues[q].
#include "../backend/cpu/kernels.h"

typedef struct { f16_t d; uint16_t scales_h; uint8_t scales_l[QK_K / 64]; uint8_t qs[QK_K / 2]; } block_iq4_xs;  // 136

static inline v128_t block_dot(const block_iq4_xs *w, const block_q8_K *a) {
  v128_t sum = wasm_i32x4_splat(0);
  for (int ib = 0; ib < QK_K / 32; ib++) {
    const int scale = (((w->scales_l[ib / 2] >> (4 * (ib % 2))) & 0xf) | (((w->scales_h >> (2 * ib)) & 3) << 4)) - 32;
    const v128_t packed = wasm_v128_load(w->qs + 16 * ib);
    const v128_t low = wasm_i8x16_swizzle(IQ4_GRID, wasm_v128_and(packed, wasm_i8x16_splat(0x0f)));
    const v128_t high = wasm_i8x16_swizzle(IQ4_GRID, wasm_u8x16_shr(packed, 4));
    sum = wasm_i32x4_add(sum, dot16_scaled(low, a->qs + 32 * ib, scale));
    sum = wasm_i32x4_add(sum, dot16_scaled(high, a->qs + 32 * ib + 16, scale));
  }
  return scaled(sum, f16_to_f32(w->d) * a->d);
}

MATMUL_BY_BLOCKS(matvec_iq4_xs, block_iq4_xs, block_q8_K, QK_K, block_dot)
