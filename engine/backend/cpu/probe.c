// The memory-read probe: reads every byte of each row as SIMD loads, from ROW_STREAMS places of
// its share at once, and stores a checksum, so the kernels' GB/s can be put beside what plain
// reads reach on this machine.
#include "kernels.h"

// rows of `cols` bytes (a multiple of 64); out[r] gets a checksum nobody reads
MATMUL(probe_read) {
  (void)thread, (void)x, (void)x_stride, (void)tokens, (void)out_stride;
  const uint32_t stride = (last - first + ROW_STREAMS - 1) / ROW_STREAMS;
  for (uint32_t i = 0; i < stride; i++) {
    const uint8_t *rows[ROW_STREAMS];
    for (int n = 0; n < ROW_STREAMS; n++) {
      const uint32_t r = first + i + n * stride;
      rows[n] = w + (r < last ? r : first + i) * row_bytes;
    }
    v128_t sum = wasm_i32x4_splat(0);
    for (uint32_t b = 0; b < cols; b += 64) {
      for (int n = 0; n < ROW_STREAMS; n++) {
        const v128_t a = wasm_v128_load(rows[n] + b), c = wasm_v128_load(rows[n] + b + 16);
        const v128_t d = wasm_v128_load(rows[n] + b + 32), e = wasm_v128_load(rows[n] + b + 48);
        sum = wasm_v128_xor(sum, wasm_v128_xor(wasm_v128_xor(a, c), wasm_v128_xor(d, e)));
      }
    }
    out[first + i] = wasm_f32x4_extract_lane(sum, 0);
  }
}
