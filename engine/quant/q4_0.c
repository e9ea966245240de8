// Q4_0 × Q8_0 (block layout in q4_0.ts): x = d·(q − 8), element j in the low nibble of qs[j],
// j+16 in its high nibble. On the CPU its rows are interleaved in fours (see interleave_rows).
#include "../backend/cpu/kernels.h"

typedef struct { f16_t d; uint8_t qs[QK / 2]; } block_q4_0;      // 18 bytes
typedef struct { f16_t d[4]; uint8_t qs[4 * QK / 2]; } block_q4_0x4;  // 72 bytes: four rows' block

void EXPORT(interleave_q4_0)(uint8_t *w, uint32_t rows, uint32_t cols, uint8_t *scratch) {
  interleave_rows(w, rows, cols / QK, QK / 2, scratch);
}

void EXPORT(deinterleave_row_q4_0)(const uint8_t *group, uint32_t index, uint32_t cols, uint8_t *row) {
  deinterleave_row(group, index, cols / QK, QK / 2, row);
}

// Σ (q − 8)·a = Σ q·a − 8·Σa of four interleaved rows (q the unsigned nibbles), one row per lane
static inline v128_t group_sum(const block_q4_0x4 *g, const block_q8_0_summed *a) {
  v128_t sums = wasm_i32x4_splat(0);
  for (int k = 0; k < 4; k++) {
    const v128_t packed = wasm_v128_load(g->qs + 16 * k);
    sums = dot_u7_add(wasm_v128_and(packed, wasm_i8x16_splat(0x0f)), wasm_v128_load32_splat(a->qs + 4 * k), sums);
    sums = dot_u7_add(wasm_u8x16_shr(packed, 4), wasm_v128_load32_splat(a->qs + 16 + 4 * k), sums);
  }
  return wasm_i32x4_sub(sums, wasm_i32x4_splat(8 * a->sum));
}

// the same for one plain row's block
static inline int32_t block_sum(const block_q4_0 *w, const block_q8_0_summed *a) {
  const v128_t packed = wasm_v128_load(w->qs);
  const v128_t low = wasm_v128_and(packed, wasm_i8x16_splat(0x0f)), high = wasm_u8x16_shr(packed, 4);
  const v128_t sums = dot_u7_add(high, wasm_v128_load(a->qs + 16), dot_u7_add(low, wasm_v128_load(a->qs), wasm_i32x4_splat(0)));
  return hsum_i32x4(sums) - 8 * a->sum;
}

MATMUL_BY_GROUPS(matvec_q4_0, block_q4_0x4, block_q4_0, group_sum, block_sum)
