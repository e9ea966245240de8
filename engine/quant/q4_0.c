// Q4_0 × Q8_0 (block layout in q4_0.ts): x = d·(q − 8), element j in the low nibble of qs[j],
// j+16 in its high nibble.
#include "../backend/cpu/kernels.h"

typedef struct { f16_t d; uint8_t qs[QK / 2]; } block_q4_0;  // 18 bytes

static inline v128_t block_dot(const block_q4_0 *w, const block_q8_0 *a) {
  // Σ (q − 8)·a = Σ q·a − 8·Σa with the nibbles q unsigned; the activation sums are the same for
  // the four rows in flight, so the compiler computes them once per block
  const v128_t packed = wasm_v128_load(w->qs);
  const v128_t low = wasm_v128_and(packed, wasm_i8x16_splat(0x0f));
  const v128_t high = wasm_u8x16_shr(packed, 4);
  const v128_t a0 = wasm_v128_load(a->qs), a1 = wasm_v128_load(a->qs + 16);
  const v128_t products = dot_u7_add(high, a1, dot_u7_add(low, a0, wasm_i32x4_splat(0)));
  const v128_t ones = wasm_i8x16_splat(1);
  const v128_t sums = dot_u7_add(ones, a1, dot_u7_add(ones, a0, wasm_i32x4_splat(0)));
  const v128_t sum = wasm_i32x4_sub(products, wasm_i32x4_shl(sums, 3));
  return scaled(sum, f16_to_f32(w->d) * f16_to_f32(a->d));
}

MATMUL_BY_BLOCKS(matvec_q4_0, block_q4_0, block_q8_0, QK, block_dot)
