// IQ3_S × Q8_K (block layout in iq3_s.ts): per 4 values a 9-bit grid index (a byte of qs, a bit
// of qh), per 8 a byte of explicit signs, per 32 a 4-bit scale s; x = d·(2s + 1)·point·sign.
#include "_iq.h"

typedef struct {
  f16_t d; uint8_t qs[QK_K / 4]; uint8_t qh[QK_K / 32]; uint8_t signs[QK_K / 8];
  uint8_t scales[QK_K / 64];
} block_iq3_s;  // 110

static inline v128_t block_dot(const block_iq3_s *w, const block_q8_K *a) {
  v128_t sum = wasm_i32x4_splat(0);
  for (int g = 0; g < QK_K / 32; g++) {
    const int high = w->qh[g];
    v128_t group = wasm_i32x4_splat(0);
    for (int pair = 0; pair < 2; pair++) {
      uint32_t points[4];
      for (int k = 0; k < 4; k++) {
        const int p = 4 * pair + k;  // the group's point p: qh bit p is its index's ninth bit
        points[k] = iq3s_grid[w->qs[8 * g + p] | ((high << (8 - p)) & 256)];
      }
      const v128_t q = wasm_v128_load(points);
      const v128_t x = signed_activations(a->qs + 32 * g + 16 * pair, w->signs[4 * g + 2 * pair],
                                          w->signs[4 * g + 2 * pair + 1]);
      group = dot_u7_add(q, x, group);
    }
    const int scale = (w->scales[g / 2] >> (4 * (g % 2))) & 0xf;
    sum = add_scaled(sum, group, 2 * scale + 1);
  }
  return scaled(sum, f16_to_f32(w->d) * a->d);
}

MATMUL_BY_BLOCKS(matvec_iq3_s, block_iq3_s, block_q8_K, QK_K, block_dot)
