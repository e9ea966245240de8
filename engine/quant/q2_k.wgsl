// Q2_K (block layout in q2_k.ts): x = d·scale·q − dmin·min per sub-block of 16; byte l of each
// 32-byte group of qs holds elements l, l+32, l+64, l+96 of its half in bits 0–1, 2–3, 4–5, 6–7.
// Against Q8_K activations.
const BLOCK_VALUES: u32 = 256u;
const BLOCK_BYTES: u32 = 84u;

fn block_dot(w: u32, a: u32) -> f32 {
  let d = f16_at(w + 80u);
  let dmin = f16_at(w + 82u);
  var sum = 0;
  var mins = 0;
  for (var sub = 0u; sub < 16u; sub++) {
    let packed = byte_at(w + sub);
    // sub-block `sub`: half sub/8, shift 2·((sub/2) % 4), bytes 16·(sub % 2) … of that half
    let qs = w + 16u + (sub >> 3u) * 32u + (sub & 1u) * 16u;
    let shift = ((sub >> 1u) & 3u) * 2u;
    var sub_sum = 0;
    var act_sum = 0;
    for (var l = 0u; l < 16u; l++) {
      let q = i32((byte_at(qs + l) >> shift) & 3u);
      sub_sum += q * act_q(a + sub * 16u + l);
      act_sum += act_q(a + sub * 16u + l);
    }
    sum += i32(packed & 15u) * sub_sum;
    mins += i32(packed >> 4u) * act_sum;
  }
  let scale = act_scale(a);
  return f32(sum) * (d * scale) - f32(mins) * (dmin * scale);
}
