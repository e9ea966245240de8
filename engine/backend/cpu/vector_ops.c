// RMS norm and RoPE over activations in the shared memory, called on the main thread: the same
// f64 arithmetic as engine/model/vector_ops.ts, in the same order, so that they give the same
// bits (products are not fused: wasm has no scalar fused multiply-add, and contraction is off).
#include "kernels.h"

#pragma clang fp contract(off)

// out = x / sqrt(mean(x²) + ε) ⊙ weight over `length` values; out may be x
void EXPORT(rms_norm)(float *out, const float *x, const float *weight, double epsilon, uint32_t length) {
  double squares = 0;
  for (uint32_t i = 0; i < length; i++) squares += (double)x[i] * x[i];
  const double scale = 1 / __builtin_sqrt(squares / length + epsilon);
  for (uint32_t i = 0; i < length; i++) out[i] = (float)((double)x[i] * scale * weight[i]);
}

// rotates the 2·half values of x by the angles of cos[0 … half) and sin[…]: pairs (2i, 2i+1),
// or (i, i + half) with neox
void EXPORT(rope)(float *x, const double *cos, const double *sin, uint32_t half, uint32_t neox) {
  for (uint32_t i = 0; i < half; i++) {
    const uint32_t a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
    const double x0 = x[a], x1 = x[b];
    x[a] = (float)(x0 * cos[i] - x1 * sin[i]);
    x[b] = (float)(x0 * sin[i] + x1 * cos[i]);
  }
}
