// IQ1_S × Q8_K (block layout in iq1_s.ts): per 8 values an 11-bit index into a grid of −1/0/1
// points (a byte of qs, three bits of qh); per 32 a 3-bit scale s and the sign of a shift of
// ±1/8; x = d·(2s + 1)·(point ± 1/8). The shift's share is Σ ±(2s + 1)·Σa, from Q8_K's bsums.
#include "_iq.h"

typedef struct { f16_t d; uint8_t qs[QK_K / 8]; uint16_t qh[QK_K / 32]; } block_iq1_s;  // 50

static inline v128_t block_dot(const block_iq1_s *w, const block_q8_K *a) {
  v128_t sum = wasm_i32x4_splat(0);
  int shifted = 0;
  for (int g = 0; g < QK_K / 32; g++) {
    const int high = w->qh[g];
    v128_t group = wasm_i32x4_splat(0);
    for (int pair = 0; pair < 2; pair++) {
      const int l = 2 * pair;
      const v128_t q = wasm_u64x2_make(iq1s_grid[w->qs[4 * g + l] | (((high >> (3 * l)) & 7) << 8)],
                                       iq1s_grid[w->qs[4 * g + l + 1] | (((high >> (3 * l + 3)) & 7) << 8)]);
      group = wasm_i32x4_add(group, dot_i8x16(q, wasm_v128_load(a->qs + 32 * g + 16 * pair)));
    }
    const int scale = 2 * ((high >> 12) & 7) + 1;
    sum = add_scaled(sum, group, scale);
    const int activations = a->bsums[2 * g] + a->bsums[2 * g + 1];
    shifted += (high & 0x8000 ? -scale : scale) * activations;
  }
  const float d = f16_to_f32(w->d) * a->d;
  return wasm_f32x4_add(scaled(sum, d), scalar_f32x4(d * 0.125f * (float)shifted));
}

MATMUL_BY_BLOCKS(matvec_iq1_s, block_iq1_s, block_q8_K, QK_K, block_dot)
