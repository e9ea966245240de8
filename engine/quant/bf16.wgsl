// BF16 weights (float.ts: the top 16 bits of an f32) against activations rounded to bf16.
const BLOCK_VALUES: u32 = 1u;
const BLOCK_BYTES: u32 = 2u;

fn block_dot(w: u32, a: u32) -> f32 {
  return bitcast<f32>(u16_at(w) << 16u) * act[a];
}
