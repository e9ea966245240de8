// The memory-read probe: reads every byte of each row (as SIMD loads, four rows at a time like
// the mat-vecs) and stores a checksum, so the kernels' GB/s can be put beside what plain reads
// reach on this machine.
#include "kernels.h"

typedef struct { uint8_t bytes[64]; } line;

static inline v128_t line_sum(const line *w, const void *unused) {
  (void)unused;
  const v128_t a = wasm_v128_load(w->bytes), b = wasm_v128_load(w->bytes + 16);
  const v128_t c = wasm_v128_load(w->bytes + 32), d = wasm_v128_load(w->bytes + 48);
  return wasm_v128_xor(wasm_v128_xor(a, b), wasm_v128_xor(c, d));
}

// rows of `cols` bytes (a multiple of 64); out[r] gets a checksum nobody reads
MATMUL_BY_BLOCKS(probe_read, line, uint8_t, 64, line_sum)
