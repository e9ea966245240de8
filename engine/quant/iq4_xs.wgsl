// IQ4_XS (block layout in iq4_xs.ts): x = d·(scale − 32)·IQ4_VALUES[q] per sub-block of 32,
// 6-bit scales (low four bits in scales_l, high two in scales_h). Against Q8_K activations.
// Needs _iq4_values.wgsl.
const BLOCK_VALUES: u32 = 256u;
const BLOCK_BYTES: u32 = 136u;

fn block_dot(w: u32, a: u32) -> f32 {
  let d = f16_at(w);
  let scales_high = u16_at(w + 2u);
  var sum = 0;
  for (var sub = 0u; sub < 8u; sub++) {
    let low = (byte_at(w + 4u + (sub >> 1u)) >> (4u * (sub & 1u))) & 15u;
    let scale = i32(low | (((scales_high >> (2u * sub)) & 3u) << 4u)) - 32;
    let qs = w + 8u + sub * 16u;
    var sub_sum = 0;
    for (var j = 0u; j < 16u; j++) {
      let packed = byte_at(qs + j);
      sub_sum += IQ4_VALUES[packed & 15u] * act_q(a + sub * 32u + j);
      sub_sum += IQ4_VALUES[packed >> 4u] * act_q(a + sub * 32u + 16u + j);
    }
    sum += scale * sub_sum;
  }
  return f32(sum) * (d * act_scale(a));
}
