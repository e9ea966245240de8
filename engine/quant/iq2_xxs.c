// IQ2_XXS × Q8_K (block layout in iq2_xxs.ts): per 32 values, 4 grid points (index bytes) and a
// u32 of 4 × 7 sign bits (ksigns completes each byte) and a 4-bit scale s on top;
// x = d·(2s + 1)/8·point·sign.
#include "_iq.h"

typedef struct { f16_t d; uint16_t qs[QK_K / 8]; } block_iq2_xxs;  // 66

static inline v128_t block_dot(const block_iq2_xxs *w, const block_q8_K *a) {
  v128_t sum = wasm_i32x4_splat(0);
  for (int g = 0; g < QK_K / 32; g++) {
    const uint8_t *index = (const uint8_t *)(w->qs + 4 * g);
    uint32_t signs;
    __builtin_memcpy(&signs, index + 4, 4);
    v128_t group = wasm_i32x4_splat(0);
    for (int pair = 0; pair < 2; pair++) {
      const v128_t q = wasm_u64x2_make(iq2xxs_grid[index[2 * pair]], iq2xxs_grid[index[2 * pair + 1]]);
      const v128_t x = signed_activations(a->qs + 32 * g + 16 * pair,
                                          ksigns_iq2xs[(signs >> (14 * pair)) & 127],
                                          ksigns_iq2xs[(signs >> (14 * pair + 7)) & 127]);
      group = dot_u7_add(q, x, group);
    }
    sum = add_scaled(sum, group, 2 * (signs >> 28) + 1);
  }
  return scaled(sum, f16_to_f32(w->d) * a->d * 0.125f);
}

MATMUL_BY_BLOCKS(matvec_iq2_xxs, block_iq2_xxs, block_q8_K, QK_K, block_dot)
