// IQ2_XS × Q8_K (block layout in iq2_xs.ts): per 8 values a u16 of a 9-bit grid index and 7 sign
// bits (ksigns completes the byte); a 4-bit scale s per 16 values; x = d·(2s + 1)/8·point·sign.
#include "_iq.h"

typedef struct { f16_t d; uint16_t qs[QK_K / 8]; uint8_t scales[QK_K / 32]; } block_iq2_xs;  // 74

static inline v128_t block_dot(const block_iq2_xs *w, const block_q8_K *a) {
  v128_t sum = wasm_i32x4_splat(0);
  for (int half = 0; half < QK_K / 16; half++) {
    const uint16_t first = w->qs[2 * half], second = w->qs[2 * half + 1];
    const v128_t q = wasm_u64x2_make(iq2xs_grid[first & 511], iq2xs_grid[second & 511]);
    const v128_t x = signed_activations(a->qs + 16 * half, ksigns_iq2xs[first >> 9],
                                        ksigns_iq2xs[second >> 9]);
    const int scale = (w->scales[half / 2] >> (4 * (half % 2))) & 0xf;
    sum = add_scaled(sum, dot_u7_add(q, x, wasm_i32x4_splat(0)), 2 * scale + 1);
  }
  return scaled(sum, f16_to_f32(w->d) * a->d * 0.125f);
}

MATMUL_BY_BLOCKS(matvec_iq2_xs, block_iq2_xs, block_q8_K, QK_K, block_dot)
