// Shared by the CPU kernels (compiled to WebAssembly by build.sh): ggml's activation block
// structs, f16 conversion, and the SIMD helpers the per-format mat-vecs use. Each format's own
// block struct and mat-vec live beside its TypeScript definition in engine/quant/<format>.c.
#pragma once
#include <stdint.h>
#include <stddef.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name))) name
#define QK 32     // block size of Q4_0 … Q8_1 and IQ4_NL
#define QK_K 256  // super-block size of the K-quants and IQ4_XS

typedef uint16_t f16_t;

// the activation blocks ggml converts a row to before a dot product (its "vec_dot type")
typedef struct { f16_t d; int8_t qs[QK]; } block_q8_0;                      // 34 bytes
typedef struct { f16_t d; f16_t s; int8_t qs[QK]; } block_q8_1;             // 36 bytes: s = d·Σq
typedef struct { float d; int8_t qs[QK_K]; int16_t bsums[QK_K / 16]; } block_q8_K;  // 292 bytes
// Q8_0's values as the kernels of offset formats read them (not a ggml type): the scale already
// in f32, and Σq beside the quants, so that Q4_0's −8 costs one subtraction per block
typedef struct { float d; int32_t sum; int8_t qs[QK]; } block_q8_0_summed;         // 40 bytes

static inline float f16_to_f32(f16_t h) {
  // shift the exponent and mantissa into place and rebias by multiplying with 2^112: exact for
  // normal and subnormal halves alike, without branches on the hot path
  union { uint32_t u; float f; } v = {(uint32_t)(h & 0x7fff) << 13};
  v.f *= 0x1p112f;
  if ((h & 0x7c00) == 0x7c00) v.u = 0x7f800000 | ((uint32_t)(h & 0x3ff) << 13);  // inf, NaN
  v.u |= (uint32_t)(h & 0x8000) << 16;
  return v.f;
}

// f16_to_f32 of four halves, each sign-extended to an i32 lane (i32x4.load16x4_s): the sign
// and magnitude shifted into place, rebiased by the same multiplication (which keeps the sign),
// and infinities and NaNs given the full exponent
static inline v128_t f16x4_to_f32x4(v128_t h) {
  const v128_t bits = wasm_v128_and(wasm_i32x4_shl(h, 13), wasm_i32x4_splat(0x8fffe000));
  const v128_t value = wasm_f32x4_mul(bits, wasm_f32x4_splat(0x1p112f));
  const v128_t exponent = wasm_v128_and(bits, wasm_i32x4_splat(0x0f800000));
  const v128_t special = wasm_i32x4_eq(exponent, wasm_i32x4_splat(0x0f800000));  // inf, NaN
  return wasm_v128_or(value, wasm_v128_and(special, wasm_i32x4_splat(0x7f800000)));
}

static inline f16_t f32_to_f16(float f) {
  // round to nearest even, as F16C's vcvtps2ph (what ggml's x86 build uses)
  union { float f; uint32_t u; } v = {f};
  uint32_t sign = (v.u >> 16) & 0x8000;
  uint32_t magnitude = v.u & 0x7fffffff;
  if (magnitude >= 0x7f800000) return sign | 0x7c00 | (magnitude > 0x7f800000 ? 0x200 : 0);
  if (magnitude >= 0x477ff000) return sign | 0x7c00;  // rounds to infinity
  if (magnitude < 0x38800000) {
    // subnormal half: let the float adder round (0.5 in the unit of 2^-24)
    union { uint32_t u; float f; } m = {magnitude};
    float shifted = m.f + 0.5f;
    union { float f; uint32_t u; } r = {shifted};
    return sign | (r.u - 0x3f000000);
  }
  uint32_t odd = (magnitude >> 13) & 1;
  magnitude += 0xc8000fff + odd;  // rebias (-112 << 23) and round half to even
  return sign | (magnitude >> 13);
}

// Σ of the four i32 lanes
static inline int32_t hsum_i32x4(v128_t v) {
  return wasm_i32x4_extract_lane(v, 0) + wasm_i32x4_extract_lane(v, 1) +
         wasm_i32x4_extract_lane(v, 2) + wasm_i32x4_extract_lane(v, 3);
}

static inline float hsum_f32x4(v128_t v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
         (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

// i8×i8 products of 16 lanes, summed in pairs of pairs into four i32 lanes
static inline v128_t dot_i8x16(v128_t a, v128_t b) {
  v128_t low = wasm_i16x8_extmul_low_i8x16(a, b);
  v128_t high = wasm_i16x8_extmul_high_i8x16(a, b);
  return wasm_i32x4_add(wasm_i32x4_extadd_pairwise_i16x8(low), wasm_i32x4_extadd_pairwise_i16x8(high));
}

// Σ q·a over 32 lanes of int8 quants and Q8 activations, as one integer
static inline int32_t dot_i8_32(v128_t q0, v128_t q1, const int8_t *a) {
  return hsum_i32x4(wasm_i32x4_add(dot_i8x16(q0, wasm_v128_load(a)), dot_i8x16(q1, wasm_v128_load(a + 16))));
}

// Σ u·a over each group of four neighbouring lanes (lane i: elements 4i … 4i+3), added to acc; u
// must lie in 0 … 127. With relaxed SIMD this is one instruction (exact for such u, so both builds
// give identical sums); without, widening multiplies and pairwise adds in the same grouping.
static inline v128_t dot_u7_add(v128_t u, v128_t a, v128_t acc) {
#ifdef __wasm_relaxed_simd__
  return wasm_i32x4_relaxed_dot_i8x16_i7x16_add(a, u, acc);
#else
  const v128_t low = wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_extmul_low_i8x16(u, a));
  const v128_t high = wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_extmul_high_i8x16(u, a));
  const v128_t sum = wasm_i32x4_add(wasm_i32x4_shuffle(low, high, 0, 2, 4, 6),
                                    wasm_i32x4_shuffle(low, high, 1, 3, 5, 7));
  return wasm_i32x4_add(acc, sum);
#endif
}

// Rows as short as a small model's (a few cache lines) leave the hardware prefetcher behind: while
// four rows compute, the next four are touched, one byte per cache line, so that their lines are
// on the way before they are needed. The bytes go to a sink, or the compiler would drop the loads.
// Longer rows stream well without (and lose a little to the extra loads).
static volatile uint32_t prefetch_sink;
#define TOUCH_ROWS_UP_TO_BYTES 3072

// The touches that keep up with the rows in flight: `next` is touched up to byte `end` (block b's
// share of the next rows: b + 1 blocks of each of the four), one load per cache line, `at` the
// next byte to touch.
#define TOUCH_NEXT_ROWS(next, end, at, touched)                                                \
  for (; at < (end); at += 64) touched += (next)[at]

// Decode reads every weight once, so a mat-vec runs at the speed its loads arrive, and one
// stream of rows keeps too few of them in flight on this CPU (its hardware prefetcher runs a
// short way ahead of each stream): kernels that can keep up walk ROW_STREAMS places of their
// share at once, each a stream of its own. Plain reads on 2 threads: 1 stream 23 GB/s, 4 streams
// 28, 8 streams 29; Q4_0's mat-vec: 12, 20, 23. (Kernels bound by their arithmetic gain nothing.)
#define ROW_STREAMS 8

// A mat-mat: out[t·out_stride + r] = W[r]·x_t for rows [first, last) of W (row_bytes apart) and
// the `tokens` activation rows x_t at x + t·x_stride (bytes), already converted to the format's
// activation blocks. A mat-vec is one token.
// Like every job of the thread pool, it starts with the share of the work (rows) this thread does
// and the thread's index.
#define MATMUL(name)                                                                            \
  void EXPORT(name)(uint32_t first, uint32_t last, uint32_t thread, const uint8_t *w,         \
                    uint32_t row_bytes, uint32_t cols, const uint8_t *x, uint32_t x_stride,   \
                    uint32_t tokens, float *out, uint32_t out_stride)

// A mat-mat over a format's blocks, four rows at a time (one row at a time leaves too few loads
// in flight for this CPU's weak hardware prefetch), every token in turn while those rows stay in
// the L1 cache. `block_dot(w, a)` returns one weight block · one activation block as f32x4
// partial sums.
#define MATMUL_BY_BLOCKS(name, block_t, activation_t, block_size, block_dot)                   \
  MATMUL(name) {                                                                             \
    (void)thread;                                                                            \
    const uint32_t blocks = cols / (block_size);                                             \
    uint32_t r = first;                                                                      \
    for (; r + 4 <= last; r += 4) {                                                          \
      const block_t *w0 = (const block_t *)(w + r * row_bytes);                              \
      const block_t *w1 = (const block_t *)(w + (r + 1) * row_bytes);                        \
      const block_t *w2 = (const block_t *)(w + (r + 2) * row_bytes);                        \
      const block_t *w3 = (const block_t *)(w + (r + 3) * row_bytes);                        \
      const uint8_t *next = w + (r + 8 <= last ? r + 4 : r) * row_bytes;                     \
      uint32_t touched = 0, touch_at = row_bytes <= TOUCH_ROWS_UP_TO_BYTES ? 0 : ~0u;        \
      for (uint32_t t = 0; t < tokens; t++) {                                                \
        const activation_t *a = (const activation_t *)(x + t * x_stride);                    \
        float *o = out + t * out_stride;                                                     \
        v128_t acc0 = wasm_f32x4_splat(0), acc1 = acc0, acc2 = acc0, acc3 = acc0;            \
        for (uint32_t b = 0; b < blocks; b++) {                                              \
          if (t == 0) TOUCH_NEXT_ROWS(next, 4 * (b + 1) * sizeof(block_t), touch_at, touched); \
          acc0 = wasm_f32x4_add(acc0, block_dot(w0 + b, a + b));                             \
          acc1 = wasm_f32x4_add(acc1, block_dot(w1 + b, a + b));                             \
          acc2 = wasm_f32x4_add(acc2, block_dot(w2 + b, a + b));                             \
          acc3 = wasm_f32x4_add(acc3, block_dot(w3 + b, a + b));                             \
        }                                                                                    \
        o[r] = hsum_f32x4(acc0);                                                             \
        o[r + 1] = hsum_f32x4(acc1);                                                         \
        o[r + 2] = hsum_f32x4(acc2);                                                         \
        o[r + 3] = hsum_f32x4(acc3);                                                         \
      }                                                                                      \
      prefetch_sink = touched;                                                               \
    }                                                                                        \
    for (; r < last; r++) {                                                                  \
      const block_t *row = (const block_t *)(w + r * row_bytes);                             \
      for (uint32_t t = 0; t < tokens; t++) {                                                \
        const activation_t *a = (const activation_t *)(x + t * x_stride);                    \
        v128_t acc = wasm_f32x4_splat(0);                                                    \
        for (uint32_t b = 0; b < blocks; b++) acc = wasm_f32x4_add(acc, block_dot(row + b, a + b)); \
        out[t * out_stride + r] = hsum_f32x4(acc);                                           \
      }                                                                                      \
    }                                                                                        \
  }

// Rows interleaved in groups of four (the CPU backend's layout of Q4_0, made in place at load, as
// llama.cpp's CPU "repack"): for formats whose block is one f16 scale then `qs_bytes`
// quant bytes, block b of rows 4g … 4g+3 becomes one block of the four scales, then the quants
// with bytes 16k+4i … 16k+4i+3 holding row i's bytes 4k … 4k+3. An integer dot product of 16
// such bytes with four activations repeated then gives the four rows' partial sums, one per
// lane, with no horizontal sums. A group takes the bytes of its four plain rows; rows after the
// last whole group stay plain.

// Interleaves rows [0, rows − rows % 4) in place; scratch holds four rows.
static inline void interleave_rows(uint8_t *w, uint32_t rows, uint32_t blocks, uint32_t qs_bytes,
                                   uint8_t *scratch) {
  const uint32_t block_bytes = 2 + qs_bytes, row_bytes = blocks * block_bytes;
  for (uint32_t r = 0; r + 4 <= rows; r += 4) {
    uint8_t *group = w + r * row_bytes;
    __builtin_memcpy(scratch, group, 4 * row_bytes);
    for (uint32_t b = 0; b < blocks; b++) {
      const uint8_t *plain[4];
      for (int i = 0; i < 4; i++) plain[i] = scratch + i * row_bytes + b * block_bytes;
      uint8_t *out = group + 4 * b * block_bytes;
      for (int i = 0; i < 4; i++) __builtin_memcpy(out + 2 * i, plain[i], 2);
      for (uint32_t c = 0; c < qs_bytes / 16; c++) {
        // a 4×4 transpose of 32-bit lanes: lane k of row i goes to lane i of vector k
        const v128_t q0 = wasm_v128_load(plain[0] + 2 + 16 * c), q1 = wasm_v128_load(plain[1] + 2 + 16 * c);
        const v128_t q2 = wasm_v128_load(plain[2] + 2 + 16 * c), q3 = wasm_v128_load(plain[3] + 2 + 16 * c);
        const v128_t low01 = wasm_i32x4_shuffle(q0, q1, 0, 4, 1, 5), low23 = wasm_i32x4_shuffle(q2, q3, 0, 4, 1, 5);
        const v128_t high01 = wasm_i32x4_shuffle(q0, q1, 2, 6, 3, 7), high23 = wasm_i32x4_shuffle(q2, q3, 2, 6, 3, 7);
        uint8_t *qs = out + 8 + 64 * c;
        wasm_v128_store(qs, wasm_i64x2_shuffle(low01, low23, 0, 2));
        wasm_v128_store(qs + 16, wasm_i64x2_shuffle(low01, low23, 1, 3));
        wasm_v128_store(qs + 32, wasm_i64x2_shuffle(high01, high23, 0, 2));
        wasm_v128_store(qs + 48, wasm_i64x2_shuffle(high01, high23, 1, 3));
      }
    }
  }
}

// Row `index` (0 … 3) of the interleaved group at `group`, as plain blocks
static inline void deinterleave_row(const uint8_t *group, uint32_t index, uint32_t blocks,
                                    uint32_t qs_bytes, uint8_t *row) {
  const uint32_t block_bytes = 2 + qs_bytes;
  for (uint32_t b = 0; b < blocks; b++, row += block_bytes) {
    const uint8_t *in = group + 4 * b * block_bytes;
    __builtin_memcpy(row, in + 2 * index, 2);
    for (uint32_t k = 0; k < qs_bytes / 4; k++) __builtin_memcpy(row + 2 + 4 * k, in + 8 + 16 * k + 4 * index, 4);
  }
}

// A mat-mat over rows interleaved in fours (group_t: four rows' block) and their plain remainder
// (block_t), with activations in block_q8_0_summed: groups from ROW_STREAMS places of the share
// at once, each for every token in turn while they stay in the cache (where the share has fewer
// groups than streams, the spare streams repeat a group and keep their results); then the rows
// after the last group one by one. `group_sum(group, a)` gives the four rows' integer sums
// Σ q·a, `block_sum(block, a)` one row's; the scales multiply them as floats.
#define MATMUL_BY_GROUPS(name, group_t, block_t, group_sum, block_sum)                         \
  MATMUL(name) {                                                                             \
    (void)thread;                                                                            \
    const uint32_t blocks = cols / QK;                                                       \
    const uint32_t groups = (last - first) / 4;                                              \
    const uint32_t stride = (groups + ROW_STREAMS - 1) / ROW_STREAMS;                        \
    for (uint32_t i = 0; i < stride; i++) {                                                  \
      const group_t *g[ROW_STREAMS];                                                         \
      uint32_t row[ROW_STREAMS];                                                             \
      int live[ROW_STREAMS];                                                                 \
      for (int n = 0; n < ROW_STREAMS; n++) {                                                \
        const uint32_t j = i + n * stride;                                                   \
        live[n] = j < groups;                                                                \
        row[n] = first + 4 * (live[n] ? j : i);                                              \
        g[n] = (const group_t *)(w + row[n] * row_bytes);                                    \
      }                                                                                      \
      for (uint32_t t = 0; t < tokens; t++) {                                                \
        const block_q8_0_summed *a = (const block_q8_0_summed *)(x + t * x_stride);          \
        v128_t acc[ROW_STREAMS];                                                             \
        for (int n = 0; n < ROW_STREAMS; n++) acc[n] = wasm_f32x4_splat(0);                  \
        for (uint32_t b = 0; b < blocks; b++) {                                              \
          const v128_t da = wasm_f32x4_splat(a[b].d);                                        \
          for (int n = 0; n < ROW_STREAMS; n++) {                                            \
            const v128_t sums = group_sum(&g[n][b], &a[b]);                                  \
            const v128_t scales = wasm_f32x4_mul(f16x4_to_f32x4(wasm_i32x4_load16x4(g[n][b].d)), da); \
            acc[n] = wasm_f32x4_add(acc[n], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(sums), scales)); \
          }                                                                                  \
        }                                                                                    \
        for (int n = 0; n < ROW_STREAMS; n++)                                                \
          if (live[n]) wasm_v128_store(out + t * out_stride + row[n], acc[n]);               \
      }                                                                                      \
    }                                                                                        \
    for (uint32_t r = first + 4 * groups; r < last; r++) {                                   \
      const block_t *plain = (const block_t *)(w + r * row_bytes);                           \
      for (uint32_t t = 0; t < tokens; t++) {                                                \
        const block_q8_0_summed *a = (const block_q8_0_summed *)(x + t * x_stride);          \
        float sum = 0;                                                                       \
        for (uint32_t b = 0; b < blocks; b++)                                                \
          sum += (float)block_sum(&plain[b], &a[b]) * (f16_to_f32(plain[b].d) * a[b].d);     \
        out[t * out_stride + r] = sum;                                                       \
      }                                                                                      \
    }                                                                                        \
  }

// an integer block sum times its float scale, as f32x4 partial sums
static inline v128_t scaled(v128_t sum_i32x4, float scale) {
  return wasm_f32x4_mul(wasm_f32x4_convert_i32x4(sum_i32x4), wasm_f32x4_splat(scale));
}

static inline v128_t scalar_f32x4(float value) { return wasm_f32x4_make(value, 0, 0, 0); }

// Q5_0/Q5_1: the fifth bits of 16 elements (bits first … first+15 of qh) as 0x10 bytes
static inline v128_t q5_high_bits(uint32_t qh, int first) {
  const v128_t bits = wasm_i8x16_make(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
  const uint32_t part = qh >> first;
  const v128_t spread = wasm_i8x16_make(part, part, part, part, part, part, part, part,
                                        part >> 8, part >> 8, part >> 8, part >> 8,
                                        part >> 8, part >> 8, part >> 8, part >> 8);
  const v128_t set = wasm_i8x16_eq(wasm_v128_and(spread, bits), bits);
  return wasm_v128_and(set, wasm_i8x16_splat(0x10));
}

// IQ4_NL/IQ4_XS: ggml's kvalues_iq4nl, the non-linear 4-bit grid, as a swizzle table
#define IQ4_GRID wasm_i8x16_make(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113)

// Q4_K/Q5_K: the 6-bit scale and minimum of sub-block j (ggml's get_scale_min_k4)
static inline void k4_scale_min(int j, const uint8_t *q, int *scale, int *min) {
  if (j < 4) {
    *scale = q[j] & 63;
    *min = q[j + 4] & 63;
  } else {
    *scale = (q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4);
    *min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// i8x16 quants · 16 activations, times an integer scale, as i32x4 partial sums
static inline v128_t dot16_scaled(v128_t q, const int8_t *a, int scale) {
  return wasm_i32x4_mul(dot_i8x16(q, wasm_v128_load(a)), wasm_i32x4_splat(scale));
}

// Q4_K/Q5_K super-block · Q8_K block: 8 sub-blocks of 32 with 6-bit scales and minimums; in each
// 64 elements, the low nibbles of 32 bytes then their high nibbles; Q5_K's fifth bits (qh, or
// NULL for Q4_K): bit 2c of qh[l] for element l of chunk c, bit 2c+1 for element 32+l.
static inline v128_t k4_k5_block_dot(f16_t d, f16_t dmin, const uint8_t *scales, const uint8_t *qs,
                                     const uint8_t *qh, const block_q8_K *a) {
  v128_t sum = wasm_i32x4_splat(0);
  int minimums = 0;
  for (int chunk = 0; chunk < 4; chunk++) {
    const uint8_t *q = qs + 32 * chunk;
    const int8_t *x = a->qs + 64 * chunk;
    int scale_low, min_low, scale_high, min_high;
    k4_scale_min(2 * chunk, scales, &scale_low, &min_low);
    k4_scale_min(2 * chunk + 1, scales, &scale_high, &min_high);
    for (int half = 0; half < 2; half++) {
      const v128_t packed = wasm_v128_load(q + 16 * half);
      v128_t low = wasm_v128_and(packed, wasm_i8x16_splat(0x0f));
      v128_t high = wasm_u8x16_shr(packed, 4);
      if (qh) {
        const v128_t bits = wasm_v128_load(qh + 16 * half);
        const v128_t bit_low = wasm_i8x16_splat(1 << (2 * chunk));
        const v128_t bit_high = wasm_i8x16_splat(1 << (2 * chunk + 1));
        const v128_t sixteen = wasm_i8x16_splat(16);
        low = wasm_v128_or(low, wasm_v128_and(wasm_i8x16_eq(wasm_v128_and(bits, bit_low), bit_low), sixteen));
        high = wasm_v128_or(high, wasm_v128_and(wasm_i8x16_eq(wasm_v128_and(bits, bit_high), bit_high), sixteen));
      }
      sum = wasm_i32x4_add(sum, dot16_scaled(low, x + 16 * half, scale_low));
      sum = wasm_i32x4_add(sum, dot16_scaled(high, x + 32 + 16 * half, scale_high));
    }
    minimums += min_low * (a->bsums[4 * chunk] + a->bsums[4 * chunk + 1]) +
                min_high * (a->bsums[4 * chunk + 2] + a->bsums[4 * chunk + 3]);
  }
  const v128_t products = scaled(sum, f16_to_f32(d) * a->d);
  return wasm_f32x4_sub(products, scalar_f32x4(f16_to_f32(dmin) * a->d * (float)minimums));
}
