// Q4_K × Q8_K (block layout in q4_k.ts): super-blocks of 256 in 8 sub-blocks of 32, each with a
// 6-bit scale and minimum; x = d·scale·q − dmin·min (see k4_k5_block_dot in kernels.h).
#include "../backend/cpu/kernels.h"

typedef struct { f16_t d; f16_t dmin; uint8_t scales[12]; uint8_t qs[QK_K / 2]; } block_q4_K;  // 144

static inline v128_t block_dot(const block_q4_K *w, const block_q8_K *a) {
  return k4_k5_block_dot(w->d, w->dmin, w->scales, w->qs, NULL, a);
}

MATMUL_BY_BLOCKS(matvec_q4_k, block_q4_K, block_q8_K, QK_K, block_dot)
