// Q6_K × Q8_K (block layout in q6_k.ts): 16 sub-blocks of 16 with int8 scales; x = d·scale·(q − 32),
// q's low 4 bits in ql, high 2 bits in qh. In each 128 elements, element l (l < 32) takes ql[l]'s
// low nibble and qh[l] bits 0–1; l+32: ql[l+32] low, bits 2–3; l+64: ql[l] high, bits 4–5;
// l+96: ql[l+32] high, bits 6–7.
#include "../backend/cpu/kernels.h"

typedef struct { uint8_t ql[QK_K / 2]; uint8_t qh[QK_K / 4]; int8_t scales[QK_K / 16]; f16_t d; } block_q6_K;  // 210

static inline v128_t six_bits(v128_t low4, v128_t qh, int shift) {
  const v128_t high2 = wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(qh, shift), wasm_i8x16_splat(3)), 4);
  return wasm_i8x16_sub(wasm_v128_or(low4, high2), wasm_i8x16_splat(32));
}

static inline v128_t block_dot(const block_q6_K *w, const block_q8_K *a) {
  v128_t sum = wasm_i32x4_splat(0);
  for (int half = 0; half < 2; half++) {
    const uint8_t *ql = w->ql + 64 * half;
    const uint8_t *qh = w->qh + 32 * half;
    const int8_t *sc = w->scales + 8 * half;
    const int8_t *x = a->qs + 128 * half;
    for (int part = 0; part < 2; part++) {  // l in [16·part, 16·part + 16)
      const v128_t l0 = wasm_v128_load(ql + 16 * part);
      const v128_t l32 = wasm_v128_load(ql + 32 + 16 * part);
      const v128_t h = wasm_v128_load(qh + 16 * part);
      const v128_t nibble = wasm_i8x16_splat(0x0f);
      sum = wasm_i32x4_add(sum, dot16_scaled(six_bits(wasm_v128_and(l0, nibble), h, 0), x + 16 * part, sc[part]));
      sum = wasm_i32x4_add(sum, dot16_scaled(six_bits(wasm_v128_and(l32, nibble), h, 2), x + 32 + 16 * part, sc[part + 2]));
      sum = wasm_i32x4_add(sum, dot16_scaled(six_bits(wasm_u8x16_shr(l0, 4), h, 4), x + 64 + 16 * part, sc[part + 4]));
      sum = wasm_i32x4_add(sum, dot16_scaled(six_bits(wasm_u8x16_shr(l32, 4), h, 6), x + 96 + 16 * part, sc[part + 6]));
    }
  }
  return scaled(sum, f16_to_f32(w->d) * a->d);
}

MATMUL_BY_BLOCKS(matvec_q6_k, block_q6_K, block_q8_K, QK_K, block_dot)
