// IQ3_XXS × Q8_K (block layout in iq3_xxs.ts): per 32 values, 8 grid points of 4 (index bytes),
// and a u32 of 4 × 7 sign bits (ksigns completes each byte) with a 4-bit scale s on top;
// x = d·(2s + 1)/4·point·sign.
#include "_iq.h"

typedef struct { f16_t d; uint8_t qs[3 * QK_K / 8]; } block_iq3_xxs;  // 98

static inline v128_t block_dot(const block_iq3_xxs *w, const block_q8_K *a) {
  v128_t sum = wasm_i32x4_splat(0);
  for (int g = 0; g < QK_K / 32; g++) {
    const uint8_t *index = w->qs + 8 * g;
    uint32_t signs;
    __builtin_memcpy(&signs, w->qs + QK_K / 4 + 4 * g, 4);
    v128_t group = wasm_i32x4_splat(0);
    for (int pair = 0; pair < 2; pair++) {
      const uint8_t *i = index + 4 * pair;
      const v128_t q = wasm_u32x4_make(iq3xxs_grid[i[0]], iq3xxs_grid[i[1]], iq3xxs_grid[i[2]],
                                       iq3xxs_grid[i[3]]);
      const v128_t x = signed_activations(a->qs + 32 * g + 16 * pair,
                                          ksigns_iq2xs[(signs >> (14 * pair)) & 127],
                                          ksigns_iq2xs[(signs >> (14 * pair + 7)) & 127]);
      group = dot_u7_add(q, x, group);
    }
    sum = add_scaled(sum, group, 2 * (signs >> 28) + 1);
  }
  return scaled(sum, f16_to_f32(w->d) * a->d * 0.25f);
}

MATMUL_BY_BLOCKS(matvec_iq3_xxs, block_iq3_xxs, block_q8_K, QK_K, block_dot)
