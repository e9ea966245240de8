// IQ2_S × Q8_K (block layout in iq2_s.ts): per 8 values a 10-bit grid index (a byte of qs, two
// bits of qh) and a byte of explicit signs (the second half of qs); a 4-bit scale s per 16
// values; x = d·(2s + 1)/8·point·sign.
#include "_iq.h"

typedef struct {
  f16_t d; uint8_t qs[QK_K / 4]; uint8_t qh[QK_K / 32]; uint8_t scales[QK_K / 32];
} block_iq2_s;  // 82

static inline v128_t block_dot(const block_iq2_s *w, const block_q8_K *a) {
  const uint8_t *signs = w->qs + QK_K / 8;
  v128_t sum = wasm_i32x4_splat(0);
  for (int g = 0; g < QK_K / 32; g++) {
    for (int half = 0; half < 2; half++) {
      const int l = 2 * half;
      const int first = w->qs[4 * g + l] | ((w->qh[g] << (8 - 2 * l)) & 0x300);
      const int second = w->qs[4 * g + l + 1] | ((w->qh[g] << (6 - 2 * l)) & 0x300);
      const v128_t q = wasm_u64x2_make(iq2s_grid[first], iq2s_grid[second]);
      const v128_t x = signed_activations(a->qs + 32 * g + 16 * half, signs[4 * g + l],
                                          signs[4 * g + l + 1]);
      const int scale = (w->scales[g] >> (4 * half)) & 0xf;
      sum = add_scaled(sum, dot_u7_add(q, x, wasm_i32x4_splat(0)), 2 * scale + 1);
    }
  }
  return scaled(sum, f16_to_f32(w->d) * a->d * 0.125f);
}

MATMUL_BY_BLOCKS(matvec_iq2_s, block_iq2_s, block_q8_K, QK_K, block_dot)
