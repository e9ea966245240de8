// IQ4_NL (block layout in iq4_nl.ts): x = d·IQ4_VALUES[q], nibbles as Q4_0. Against Q8_0
// activations. Needs _iq4_values.wgsl.
const BLOCK_VALUES: u32 = 32u;
const BLOCK_BYTES: u32 = 18u;

fn block_dot(w: u32, a: u32) -> f32 {
  let d = f16_at(w);
  var sum = 0;
  for (var j = 0u; j < 16u; j++) {
    let packed = byte_at(w + 2u + j);
    sum += IQ4_VALUES[packed & 15u] * act_q(a + j);
    sum += IQ4_VALUES[packed >> 4u] * act_q(a + 16u + j);
  }
  return f32(sum) * (d * act_scale(a));
}
