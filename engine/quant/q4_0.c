// Q4_0 × Q8_0 (block layout in q4_0.ts): x = d·(q − 8), element j in the low nibble of qs[j],
// j+16 in its high nibble.
#include "../backend/cpu/kernels.h"

typedef struct { f16_t d; uint8_t qs[QK / 2]; } block_q4_0;  // 18 bytes

// Σ (q − 8)·a = Σ q·a − 8·Σa with the nibbles q unsigned, as i32x4 partial sums
static inline v128_t block_sum(const block_q4_0 *w, v128_t a0, v128_t a1, v128_t eight_sums) {
  const v128_t packed = wasm_v128_load(w->qs);
  const v128_t low = wasm_v128_and(packed, wasm_i8x16_splat(0x0f));
  const v128_t high = wasm_u8x16_shr(packed, 4);
  return wasm_i32x4_sub(dot_u7_add(high, a1, dot_u7_add(low, a0, wasm_i32x4_splat(0))), eight_sums);
}

// 8·Σa of an activation block's two halves, as i32x4 partial sums in dot_u7_add's lane grouping
static inline v128_t eight_sums(v128_t a0, v128_t a1) {
  const v128_t ones = wasm_i8x16_splat(1);
  return wasm_i32x4_shl(dot_u7_add(ones, a1, dot_u7_add(ones, a0, wasm_i32x4_splat(0))), 3);
}

// lane `lane` of v in every lane
#define BROADCAST(v, lane) wasm_i32x4_shuffle(v, v, lane, lane, lane, lane)

// Four rows at a time, every token in turn, the next rows touched (see MATMUL_BY_BLOCKS): the
// activation sums and the four rows' scales (converted together) are shared by the rows in flight.
MATMUL(matvec_q4_0) {
  (void)thread;
  const uint32_t blocks = cols / QK;
  uint32_t r = first;
  for (; r + 4 <= last; r += 4) {
    const block_q4_0 *w0 = (const block_q4_0 *)(w + r * row_bytes);
    const block_q4_0 *w1 = (const block_q4_0 *)(w + (r + 1) * row_bytes);
    const block_q4_0 *w2 = (const block_q4_0 *)(w + (r + 2) * row_bytes);
    const block_q4_0 *w3 = (const block_q4_0 *)(w + (r + 3) * row_bytes);
    const uint8_t *next = w + (r + 8 <= last ? r + 4 : r) * row_bytes;
    uint32_t touched = 0, touch_at = row_bytes <= TOUCH_ROWS_UP_TO_BYTES ? 0 : ~0u;
    for (uint32_t t = 0; t < tokens; t++) {
      const block_q8_0 *a = (const block_q8_0 *)(x + t * x_stride);
      float *o = out + t * out_stride;
      v128_t acc0 = wasm_f32x4_splat(0), acc1 = acc0, acc2 = acc0, acc3 = acc0;
      for (uint32_t b = 0; b < blocks; b++) {
        if (t == 0) TOUCH_NEXT_ROWS(next, 4 * (b + 1) * sizeof(block_q4_0), touch_at, touched);
        const v128_t a0 = wasm_v128_load(a[b].qs), a1 = wasm_v128_load(a[b].qs + 16);
        const v128_t sums = eight_sums(a0, a1);
        const v128_t weight_scales = f16x4_to_f32x4(wasm_i32x4_make(w0[b].d, w1[b].d, w2[b].d, w3[b].d));
        const v128_t scales = wasm_f32x4_mul(weight_scales, wasm_f32x4_splat(f16_to_f32(a[b].d)));
        acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(block_sum(w0 + b, a0, a1, sums)), BROADCAST(scales, 0)));
        acc1 = wasm_f32x4_add(acc1, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(block_sum(w1 + b, a0, a1, sums)), BROADCAST(scales, 1)));
        acc2 = wasm_f32x4_add(acc2, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(block_sum(w2 + b, a0, a1, sums)), BROADCAST(scales, 2)));
        acc3 = wasm_f32x4_add(acc3, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(block_sum(w3 + b, a0, a1, sums)), BROADCAST(scales, 3)));
      }
      o[r] = hsum_f32x4(acc0);
      o[r + 1] = hsum_f32x4(acc1);
      o[r + 2] = hsum_f32x4(acc2);
      o[r + 3] = hsum_f32x4(acc3);
    }
    prefetch_sink = touched;
  }
  for (; r < last; r++) {
    const block_q4_0 *row = (const block_q4_0 *)(w + r * row_bytes);
    for (uint32_t t = 0; t < tokens; t++) {
      const block_q8_0 *a = (const block_q8_0 *)(x + t * x_stride);
      v128_t acc = wasm_f32x4_splat(0);
      for (uint32_t b = 0; b < blocks; b++) {
        const v128_t a0 = wasm_v128_load(a[b].qs), a1 = wasm_v128_load(a[b].qs + 16);
        const v128_t sum = block_sum(row + b, a0, a1, eight_sums(a0, a1));
        acc = wasm_f32x4_add(acc, scaled(sum, f16_to_f32(row[b].d) * f16_to_f32(a[b].d)));
      }
      out[t * out_stride + r] = hsum_f32x4(acc);
    }
  }
}
