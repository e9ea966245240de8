// The 6-bit scales and minimums of Q4_K and Q5_K (see _k_scales.ts).

// Scale and minimum of sub-block j (0–7) from the 12 bytes at `at` (ggml's get_scale_min_k4;
// scaleMinK4 in _k_scales.ts): sub-blocks 0–3 in the low 6 bits of bytes 0–7, sub-blocks 4–7
// four bits from bytes 8–11 and their top two from bytes 0–7.
fn scale_min_k4(at: u32, j: u32) -> vec2u {
  if (j < 4u) {
    return vec2u(byte_at(at + j) & 63u, byte_at(at + j + 4u) & 63u);
  }
  let scale = (byte_at(at + j + 4u) & 15u) | ((byte_at(at + j - 4u) >> 6u) << 4u);
  let min = (byte_at(at + j + 4u) >> 4u) | ((byte_at(at + j) >> 6u) << 4u);
  return vec2u(scale, min);
}
