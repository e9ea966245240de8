// Q5_K × Q8_K (block layout in q5_k.ts): Q4_K's layout plus a fifth bit per element in qh
// (see k4_k5_block_dot in kernels.h).
#include "../backend/cpu/kernels.h"

typedef struct {
  f16_t d; f16_t dmin; uint8_t scales[12]; uint8_t qh[QK_K / 8]; uint8_t qs[QK_K / 2];
} block_q5_K;  // 176 bytes

static inline v128_t block_dot(const block_q5_K *w, const block_q8_K *a) {
  return k4_k5_block_dot(w->d, w->dmin, w->scales, w->qs, w->qh, a);
}

MATMUL_BY_BLOCKS(matvec_q5_k, block_q5_K, block_q8_K, QK_K, block_dot)
