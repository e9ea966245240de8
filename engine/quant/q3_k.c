// Q3_K × Q8_K (block layout in q3_k.ts): 16 sub-blocks of 16 with 6-bit scales (packed in 12
// bytes, stored +32); x = d·(scale − 32)·(q − 4·(high bit clear)). In each 128 elements, element
// 32j + l holds bits 2j…2j+1 of qs[l] and its high bit in bit 4·half + j of hmask[l].
#include "../backend/cpu/kernels.h"

typedef struct { uint8_t hmask[QK_K / 8]; uint8_t qs[QK_K / 4]; uint8_t scales[12]; f16_t d; } block_q3_K;  // 110

// the 16 scales, as ggml's dequantize_row_q3_K unpacks them
static inline void unpack_scales(const uint8_t *packed, int8_t scales[16]) {
  const uint32_t kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f;
  uint32_t aux[4];
  __builtin_memcpy(aux, packed, 12);
  const uint32_t tmp = aux[2];
  aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
  aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
  aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4);
  aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4);
  __builtin_memcpy(scales, aux, 16);
}

static inline v128_t block_dot(const block_q3_K *w, const block_q8_K *a) {
  int8_t scales[16];
  unpack_scales(w->scales, scales);
  v128_t sum = wasm_i32x4_splat(0);
  for (int half = 0; half < 2; half++) {
    for (int j = 0; j < 4; j++) {
      const v128_t bit = wasm_i8x16_splat(1 << (4 * half + j));
      for (int part = 0; part < 2; part++) {
        const v128_t packed = wasm_v128_load(w->qs + 32 * half + 16 * part);
        const v128_t hmask = wasm_v128_load(w->hmask + 16 * part);
        const v128_t low2 = wasm_v128_and(wasm_u8x16_shr(packed, 2 * j), wasm_i8x16_splat(3));
        const v128_t clear = wasm_v128_andnot(wasm_i8x16_splat(4), wasm_i8x16_eq(wasm_v128_and(hmask, bit), bit));
        const int k = 8 * half + 2 * j + part;
        sum = wasm_i32x4_add(sum, dot16_scaled(wasm_i8x16_sub(low2, clear), a->qs + 16 * k, scales[k] - 32));
      }
    }
  }
  return scaled(sum, f16_to_f32(w->d) * a->d);
}

MATMUL_BY_BLOCKS(matvec_q3_k, block_q3_K, block_q8_K, QK_K, block_dot)
