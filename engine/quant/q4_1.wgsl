// Q4_1 (block layout in q4_1.ts): x = d·q + m, nibbles as Q4_0. Against Q8_1 activations,
// whose stored block sum ggml multiplies by m.
const BLOCK_VALUES: u32 = 32u;
const BLOCK_BYTES: u32 = 20u;

fn block_dot(w: u32, a: u32) -> f32 {
  let d = f16_at(w);
  let m = f16_at(w + 2u);
  var sum = 0;
  for (var j = 0u; j < 16u; j++) {
    let packed = byte_at(w + 4u + j);
    sum += i32(packed & 15u) * act_q(a + j);
    sum += i32(packed >> 4u) * act_q(a + 16u + j);
  }
  return f32(sum) * (d * act_scale(a)) + m * act_sum(a);
}
