// Activation rows converted as ggml's x86 CPU code converts them before a dot product
// (engine/quant/activations.ts is the TypeScript reference of the same rounding).
#include "kernels.h"

static inline float round_half_even(float x) { return __builtin_nearbyintf(x); }

static inline float abs_max(const float *x, int n) {
  float amax = 0;
  for (int j = 0; j < n; j++) {
    const float magnitude = __builtin_fabsf(x[j]);
    if (magnitude > amax) amax = magnitude;
  }
  return amax;
}

// Q8_0's rounding of one block: q = round-half-even(x·127/amax); returns d = f16(amax/127)
static inline f16_t quantize_block_q8_0(const float *x, int8_t *qs) {
  const float amax = abs_max(x, QK);
  const float inverse = amax != 0 ? 127.0f / amax : 0.0f;
  for (int j = 0; j < QK; j++) qs[j] = (int8_t)round_half_even(x[j] * inverse);
  return f32_to_f16(amax / 127.0f);
}

void EXPORT(quantize_q8_0)(const float *x, block_q8_0 *y, uint32_t n) {
  for (uint32_t b = 0; b < n / QK; b++, x += QK) y[b].d = quantize_block_q8_0(x, y[b].qs);
}

// Q8_0's values, laid out for the kernels of offset formats (block_q8_0_summed)
void EXPORT(quantize_q8_0_summed)(const float *x, block_q8_0_summed *y, uint32_t n) {
  for (uint32_t b = 0; b < n / QK; b++, x += QK) {
    y[b].d = f16_to_f32(quantize_block_q8_0(x, y[b].qs));
    int sum = 0;
    for (int j = 0; j < QK; j++) sum += y[b].qs[j];
    y[b].sum = sum;
  }
}

// Q8_1: Q8_0's rounding, plus the block sum s = f16(amax/127 · Σq) (the f32 scale, as ggml)
void EXPORT(quantize_q8_1)(const float *x, block_q8_1 *y, uint32_t n) {
  for (uint32_t b = 0; b < n / QK; b++, x += QK) {
    const float amax = abs_max(x, QK);
    const float scale = amax / 127.0f;
    y[b].d = f32_to_f16(scale);
    const float inverse = amax != 0 ? 127.0f / amax : 0.0f;
    int sum = 0;
    for (int j = 0; j < QK; j++) {
      y[b].qs[j] = (int8_t)round_half_even(x[j] * inverse);
      sum += y[b].qs[j];
    }
    y[b].s = f32_to_f16(scale * (float)sum);
  }
}

// Q8_K (quantize_row_q8_K_ref): scale −127/max for the signed value of largest magnitude
void EXPORT(quantize_q8_K)(const float *x, block_q8_K *y, uint32_t n) {
  for (uint32_t b = 0; b < n / QK_K; b++, x += QK_K) {
    float amax = 0, max = 0;
    for (int j = 0; j < QK_K; j++) {
      if (__builtin_fabsf(x[j]) > amax) {
        amax = __builtin_fabsf(x[j]);
        max = x[j];
      }
    }
    if (amax == 0) {
      y[b].d = 0;
      for (int j = 0; j < QK_K; j++) y[b].qs[j] = 0;
      for (int j = 0; j < QK_K / 16; j++) y[b].bsums[j] = 0;
      continue;
    }
    const float inverse = -127.0f / max;
    for (int j = 0; j < QK_K; j++) {
      const float q = round_half_even(inverse * x[j]);
      y[b].qs[j] = (int8_t)(q < 127 ? q : 127);
    }
    for (int j = 0; j < QK_K / 16; j++) {
      int sum = 0;
      for (int i = 0; i < 16; i++) sum += y[b].qs[j * 16 + i];
      y[b].bsums[j] = (int16_t)sum;
    }
    y[b].d = 1 / inverse;
  }
}

// F16 activations for F16 weights
void EXPORT(convert_f16)(const float *x, f16_t *y, uint32_t n) {
  for (uint32_t j = 0; j < n; j++) y[j] = f32_to_f16(x[j]);
}

// BF16 activations for BF16 weights: round to nearest even on the top 16 bits
void EXPORT(convert_bf16)(const float *x, uint16_t *y, uint32_t n) {
  for (uint32_t j = 0; j < n; j++) {
    union { float f; uint32_t u; } v = {x[j]};
    y[j] = (uint16_t)((v.u + (0x7fff + ((v.u >> 16) & 1))) >> 16);
  }
}
