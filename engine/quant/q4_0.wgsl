// Q4_0 (block layout in q4_0.ts): x = d·(q − 8), element j in the low nibble of qs[j], j+16 in
// its high nibble. Against Q8_0 activations.
const BLOCK_VALUES: u32 = 32u;
const BLOCK_BYTES: u32 = 18u;

fn block_dot(w: u32, a: u32) -> f32 {
  let d = f16_at(w);
  var sum = 0;
  for (var j = 0u; j < 16u; j++) {
    let packed = byte_at(w + 2u + j);
    sum += (i32(packed & 15u) - 8) * act_q(a + j);
    sum += (i32(packed >> 4u) - 8) * act_q(a + 16u + j);
  }
  return f32(sum) * (d * act_scale(a));
}
