// IQ1_M × Q8_K (block layout in iq1_m.ts): per 8 values an 11-bit index into a grid of −1/0/1
// points (a byte of qs, three bits of a qh nibble) and the sign of a shift of ±1/8 (the nibble's
// fourth bit); per 16 a 3-bit scale s; the f16 d in the top nibbles of the four scale words;
// x = d·(2s + 1)·(point ± 1/8). The shift's share needs Σa per 8, summed here.
#include "_iq.h"

typedef struct { uint8_t qs[QK_K / 8]; uint8_t qh[QK_K / 16]; uint8_t scales[QK_K / 32]; } block_iq1_m;  // 56

static inline v128_t block_dot(const block_iq1_m *w, const block_q8_K *a) {
  uint16_t sc[4];
  __builtin_memcpy(sc, w->scales, 8);
  const f16_t d = (sc[0] >> 12) | ((sc[1] >> 8) & 0x00f0) | ((sc[2] >> 4) & 0x0f00) | (sc[3] & 0xf000);
  v128_t sum = wasm_i32x4_splat(0), shifted = sum;
  for (int g = 0; g < QK_K / 32; g++) {
    for (int half = 0; half < 2; half++) {
      const int l = 2 * half;
      const int first = w->qh[2 * g + half] & 0xf, second = w->qh[2 * g + half] >> 4;
      const v128_t q = wasm_u64x2_make(iq1s_grid[w->qs[4 * g + l] | ((first & 7) << 8)],
                                       iq1s_grid[w->qs[4 * g + l + 1] | ((second & 7) << 8)]);
      const v128_t x = wasm_v128_load(a->qs + 32 * g + 16 * half);
      const int scale = 2 * ((sc[g / 2] >> (6 * (g % 2) + 3 * half)) & 7) + 1;
      sum = add_scaled(sum, dot_i8x16(q, x), scale);
      // Σa of each 4 lanes: lanes 0–1 belong to the first point, 2–3 to the second
      const v128_t sums = wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_extadd_pairwise_i8x16(x));
      const int s1 = first & 8 ? -scale : scale, s2 = second & 8 ? -scale : scale;
      shifted = wasm_i32x4_add(shifted, wasm_i32x4_mul(sums, wasm_i32x4_make(s1, s1, s2, s2)));
    }
  }
  const float scale = f16_to_f32(d) * a->d;
  return wasm_f32x4_add(scaled(sum, scale), scaled(shifted, scale * 0.125f));
}

MATMUL_BY_BLOCKS(matvec_iq1_m, block_iq1_m, block_q8_K, QK_K, block_dot)
