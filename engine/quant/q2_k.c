// Q2_K × Q8_K (block layout in q2_k.ts): 16 sub-blocks of 16, each with a 4-bit scale (low
// nibble of scales[k]) and minimum (high nibble); x = d·scale·q − dmin·min. In each 128 elements,
// element 32j + l holds bits 2j…2j+1 of qs[l].
#include "../backend/cpu/kernels.h"

typedef struct { uint8_t scales[QK_K / 16]; uint8_t qs[QK_K / 4]; f16_t d; f16_t dmin; } block_q2_K;  // 84

static inline v128_t block_dot(const block_q2_K *w, const block_q8_K *a) {
  v128_t sum = wasm_i32x4_splat(0);
  int minimums = 0;
  for (int k = 0; k < QK_K / 16; k++) minimums += (w->scales[k] >> 4) * a->bsums[k];
  for (int half = 0; half < 2; half++) {
    for (int j = 0; j < 4; j++) {
      for (int part = 0; part < 2; part++) {
        const v128_t packed = wasm_v128_load(w->qs + 32 * half + 16 * part);
        const v128_t q = wasm_v128_and(wasm_u8x16_shr(packed, 2 * j), wasm_i8x16_splat(3));
        const int k = 8 * half + 2 * j + part;
        sum = wasm_i32x4_add(sum, dot16_scaled(q, a->qs + 16 * k, w->scales[k] & 0xf));
      }
    }
  }
  const v128_t products = scaled(sum, f16_to_f32(w->d) * a->d);
  return wasm_f32x4_sub(products, scalar_f32x4(f16_to_f32(w->dmin) * a->d * (float)minimums));
}

MATMUL_BY_BLOCKS(matvec_q2_k, block_q2_K, block_q8_K, QK_K, block_dot)
