// Q8_0 (block layout in q8_0.ts): x = d·q, q signed bytes. Against Q8_0 activations.
const BLOCK_VALUES: u32 = 32u;
const BLOCK_BYTES: u32 = 34u;

fn block_dot(w: u32, a: u32) -> f32 {
  let d = f16_at(w);
  var sum = 0;
  for (var j = 0u; j < 32u; j++) {
    sum += i8_at(w + 2u + j) * act_q(a + j);
  }
  return f32(sum) * (d * act_scale(a));
}
