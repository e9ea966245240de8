// Q5_0 (block layout in q5_0.ts): x = d·(q − 16), low four bits as Q4_0, bit j of qh the fifth
// bit of element j. Against Q8_0 activations.
const BLOCK_VALUES: u32 = 32u;
const BLOCK_BYTES: u32 = 22u;

fn block_dot(w: u32, a: u32) -> f32 {
  let d = f16_at(w);
  let high = u16_at(w + 2u) | (u16_at(w + 4u) << 16u);
  var sum = 0;
  for (var j = 0u; j < 16u; j++) {
    let packed = byte_at(w + 6u + j);
    let low = (packed & 15u) | (((high >> j) << 4u) & 16u);
    let up = (packed >> 4u) | ((high >> (j + 12u)) & 16u);
    sum += (i32(low) - 16) * act_q(a + j);
    sum += (i32(up) - 16) * act_q(a + 16u + j);
  }
  return f32(sum) * (d * act_scale(a));
}
