// Q5_1 (block layout in q5_1.ts): x = d·q + m, the fifth bits in qh as Q5_0. Against Q8_1
// activations, whose stored block sum ggml multiplies by m.
const BLOCK_VALUES: u32 = 32u;
const BLOCK_BYTES: u32 = 24u;

fn block_dot(w: u32, a: u32) -> f32 {
  let d = f16_at(w);
  let m = f16_at(w + 2u);
  let high = u16_at(w + 4u) | (u16_at(w + 6u) << 16u);
  var sum = 0;
  for (var j = 0u; j < 16u; j++) {
    let packed = byte_at(w + 8u + j);
    let low = (packed & 15u) | (((high >> j) << 4u) & 16u);
    let up = (packed >> 4u) | ((high >> (j + 12u)) & 16u);
    sum += i32(low) * act_q(a + j);
    sum += i32(up) * act_q(a + 16u + j);
  }
  return f32(sum) * (d * act_scale(a)) + m * act_sum(a);
}
