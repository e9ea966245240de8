// Q5_K (block layout in q5_k.ts): Q4_K with a fifth bit per value in qh: bit 2·pair of qh[l]
// for the low-nibble sub-block of pair `pair`, bit 2·pair+1 for the high-nibble one. Against
// Q8_K activations. Needs _k_scales.wgsl.
const BLOCK_VALUES: u32 = 256u;
const BLOCK_BYTES: u32 = 176u;

fn block_dot(w: u32, a: u32) -> f32 {
  let d = f16_at(w);
  let dmin = f16_at(w + 2u);
  var sum = 0;
  var mins = 0;
  for (var sub = 0u; sub < 8u; sub++) {
    let scale_min = scale_min_k4(w + 4u, sub);
    let qs = w + 48u + (sub >> 1u) * 32u;
    let shift = (sub & 1u) * 4u;
    var sub_sum = 0;
    var act_sum = 0;
    for (var l = 0u; l < 32u; l++) {
      let q = i32(((byte_at(qs + l) >> shift) & 15u) | (((byte_at(w + 16u + l) >> sub) & 1u) << 4u));
      sub_sum += q * act_q(a + sub * 32u + l);
      act_sum += act_q(a + sub * 32u + l);
    }
    sum += i32(scale_min.x) * sub_sum;
    mins += i32(scale_min.y) * act_sum;
  }
  let scale = act_scale(a);
  return f32(sum) * (d * scale) - f32(mins) * (dmin * scale);
}
