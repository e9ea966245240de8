// F16 weights (float.ts) against activations rounded to f16.
const BLOCK_VALUES: u32 = 1u;
const BLOCK_BYTES: u32 = 2u;

fn block_dot(w: u32, a: u32) -> f32 {
  return f16_at(w) * act[a];
}
