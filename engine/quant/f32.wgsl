// F32 weights (float.ts) against f32 activations.
const BLOCK_VALUES: u32 = 1u;
const BLOCK_BYTES: u32 = 4u;

fn block_dot(w: u32, a: u32) -> f32 {
  return bitcast<f32>(word_at(w)) * act[a];
}
