// Q4_0 × Q8_0 (block layout in q4_0.ts): x = d·(q − 8), element j in the low nibble of qs[j],
// j+16 in its high nibble.
#include "../backend/cpu/kernels.h"

typedef struct { f16_t d; uint8_t qs[QK / 2]; } block_q4_0;  // 18 bytes

// The CPU backend's layout of Q4_0 (as llama.cpp's repacked block_q4_0x4): block b of rows
// 4g … 4g+3 as one 72-byte block, the four rows' scales, then their nibbles with bytes
// 16k+4i … 16k+4i+3 holding row i's bytes 4k … 4k+3 (elements 4k … 4k+3 in the low nibbles,
// 16+4k … 19+4k in the high ones). One integer dot product of 16 such bytes with four
// activations repeated then gives the four rows' partial sums, one per lane, with no horizontal
// sums. A group of four rows takes the bytes of the four plain rows; rows after the last whole
// group stay plain.
typedef struct { f16_t d[4]; uint8_t qs[4 * QK / 2]; } block_q4_0x4;  // 72 bytes

// Interleaves rows [0, rows − rows % 4) of the Q4_0 matrix at w in place; scratch holds 4 rows.
void EXPORT(interleave_q4_0)(uint8_t *w, uint32_t rows, uint32_t cols, uint8_t *scratch) {
  const uint32_t blocks = cols / QK, row_bytes = blocks * sizeof(block_q4_0);
  const block_q4_0 *plain[4];
  for (int i = 0; i < 4; i++) plain[i] = (const block_q4_0 *)(scratch + i * row_bytes);
  for (uint32_t r = 0; r + 4 <= rows; r += 4) {
    block_q4_0x4 *group = (block_q4_0x4 *)(w + r * row_bytes);
    __builtin_memcpy(scratch, group, 4 * row_bytes);
    for (uint32_t b = 0; b < blocks; b++) {
      for (int i = 0; i < 4; i++) group[b].d[i] = plain[i][b].d;
      // a 4×4 transpose of 32-bit lanes: lane k of row i goes to lane i of vector k
      const v128_t q0 = wasm_v128_load(plain[0][b].qs), q1 = wasm_v128_load(plain[1][b].qs);
      const v128_t q2 = wasm_v128_load(plain[2][b].qs), q3 = wasm_v128_load(plain[3][b].qs);
      const v128_t low01 = wasm_i32x4_shuffle(q0, q1, 0, 4, 1, 5), low23 = wasm_i32x4_shuffle(q2, q3, 0, 4, 1, 5);
      const v128_t high01 = wasm_i32x4_shuffle(q0, q1, 2, 6, 3, 7), high23 = wasm_i32x4_shuffle(q2, q3, 2, 6, 3, 7);
      wasm_v128_store(group[b].qs, wasm_i64x2_shuffle(low01, low23, 0, 2));
      wasm_v128_store(group[b].qs + 16, wasm_i64x2_shuffle(low01, low23, 1, 3));
      wasm_v128_store(group[b].qs + 32, wasm_i64x2_shuffle(high01, high23, 0, 2));
      wasm_v128_store(group[b].qs + 48, wasm_i64x2_shuffle(high01, high23, 1, 3));
    }
  }
}

// Row `index` (0 … 3) of the interleaved group at `group`, as plain Q4_0 blocks
void EXPORT(deinterleave_row_q4_0)(const block_q4_0x4 *group, uint32_t index, uint32_t cols,
                                   block_q4_0 *row) {
  for (uint32_t b = 0; b < cols / QK; b++) {
    row[b].d = group[b].d[index];
    for (int k = 0; k < 4; k++) __builtin_memcpy(row[b].qs + 4 * k, group[b].qs + 16 * k + 4 * index, 4);
  }
}

// Σ q·a of an interleaved block's four rows (q the unsigned nibbles), one row per lane
static inline v128_t group_dot(const uint8_t *qs, const int8_t *a) {
  v128_t sums = wasm_i32x4_splat(0);
  for (int k = 0; k < 4; k++) {
    const v128_t packed = wasm_v128_load(qs + 16 * k);
    sums = dot_u7_add(wasm_v128_and(packed, wasm_i8x16_splat(0x0f)), wasm_v128_load32_splat(a + 4 * k), sums);
    sums = dot_u7_add(wasm_u8x16_shr(packed, 4), wasm_v128_load32_splat(a + 16 + 4 * k), sums);
  }
  return sums;
}

// Groups of four rows from ROW_STREAMS places at once, for every token in turn while they stay in
// the cache; the rows after the last group one by one. Σ (q − 8)·a = Σ q·a − 8·Σa, exact in
// integers. Where the share has fewer groups than streams, the spare streams repeat a group
// and keep their results.
MATMUL(matvec_q4_0) {
  (void)thread;
  const uint32_t blocks = cols / QK;
  const uint32_t groups = (last - first) / 4;
  const uint32_t stride = (groups + ROW_STREAMS - 1) / ROW_STREAMS;
  for (uint32_t i = 0; i < stride; i++) {
    const block_q4_0x4 *g[ROW_STREAMS];
    uint32_t row[ROW_STREAMS];
    int live[ROW_STREAMS];
    for (int n = 0; n < ROW_STREAMS; n++) {
      const uint32_t j = i + n * stride;
      live[n] = j < groups;
      row[n] = first + 4 * (live[n] ? j : i);
      g[n] = (const block_q4_0x4 *)(w + row[n] * row_bytes);
    }
    for (uint32_t t = 0; t < tokens; t++) {
      const block_q8_0_summed *a = (const block_q8_0_summed *)(x + t * x_stride);
      v128_t acc[ROW_STREAMS];
      for (int n = 0; n < ROW_STREAMS; n++) acc[n] = wasm_f32x4_splat(0);
      for (uint32_t b = 0; b < blocks; b++) {
        const v128_t eight = wasm_i32x4_splat(8 * a[b].sum), da = wasm_f32x4_splat(a[b].d);
        for (int n = 0; n < ROW_STREAMS; n++) {
          const v128_t sums = wasm_i32x4_sub(group_dot(g[n][b].qs, a[b].qs), eight);
          const v128_t scales = wasm_f32x4_mul(f16x4_to_f32x4(wasm_i32x4_load16x4(g[n][b].d)), da);
          acc[n] = wasm_f32x4_add(acc[n], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(sums), scales));
        }
      }
      for (int n = 0; n < ROW_STREAMS; n++) if (live[n]) wasm_v128_store(out + t * out_stride + row[n], acc[n]);
    }
  }
  for (uint32_t r = first + 4 * groups; r < last; r++) {
    const block_q4_0 *row = (const block_q4_0 *)(w + r * row_bytes);
    for (uint32_t t = 0; t < tokens; t++) {
      const block_q8_0_summed *a = (const block_q8_0_summed *)(x + t * x_stride);
      float sum = 0;
      for (uint32_t b = 0; b < blocks; b++) {
        const v128_t packed = wasm_v128_load(row[b].qs);
        const v128_t low = wasm_v128_and(packed, wasm_i8x16_splat(0x0f)), high = wasm_u8x16_shr(packed, 4);
        const v128_t dot = dot_u7_add(high, wasm_v128_load(a[b].qs + 16), dot_u7_add(low, wasm_v128_load(a[b].qs), wasm_i32x4_splat(0)));
        sum += (float)(hsum_i32x4(dot) - 8 * a[b].sum) * (f16_to_f32(row[b].d) * a[b].d);
      }
      out[t * out_stride + r] = sum;
    }
  }
}
