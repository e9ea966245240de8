// Shared by the i-quants' CPU kernels (iq2_*.c, iq3_*.c, iq1_*.c): their grids, generated from
// _iq_grids.ts by build.sh, and the sign bits applied to activations.
#pragma once
#include "../backend/cpu/kernels.h"
#include "iq_grids.h"

// 16 Q8_K activations with signs applied: bit j of `low` negates lane j, bit j of `high` lane
// 8 + j. (Flipping the activation instead of the grid value keeps the grids unsigned, as
// dot_u7_add wants; activations lie in −127 … 127, so negation never overflows.)
static inline v128_t signed_activations(const int8_t *a, uint8_t low, uint8_t high) {
  const v128_t bits = wasm_u8x16_make(1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128);
  const v128_t spread = wasm_u64x2_make(low * 0x0101010101010101ull, high * 0x0101010101010101ull);
  const v128_t negate = wasm_i8x16_eq(wasm_v128_and(spread, bits), bits);
  const v128_t x = wasm_v128_load(a);
  return wasm_i8x16_sub(wasm_v128_xor(x, negate), negate);
}

// Σ scale·products: the i32 lanes of a group's products, times the group's integer scale
static inline v128_t add_scaled(v128_t sum, v128_t products, int scale) {
  return wasm_i32x4_add(sum, wasm_i32x4_mul(products, wasm_i32x4_splat(scale)));
}
