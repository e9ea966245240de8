// IQ2_S (block layout in iq2_s.ts): per 8 values a 10-bit IQ2S_GRID index (a byte of qs, two
// bits of qh) and a byte of explicit signs (qs's second half); a 4-bit scale s per 16 values;
// x = d·(2s + 1)/8·point·sign. Against Q8_K activations. Needs _iq.wgsl.
const BLOCK_VALUES: u32 = 256u;
const BLOCK_BYTES: u32 = 82u;

fn block_dot(w: u32, a: u32) -> f32 {
  let d = f16_at(w);
  var sum = 0;
  for (var g = 0u; g < 8u; g++) {
    let high_bits = byte_at(w + 66u + g);
    let scales = byte_at(w + 74u + g);
    for (var l = 0u; l < 4u; l++) {
      let point = byte_at(w + 2u + 4u * g + l) | ((high_bits << (8u - 2u * l)) & 0x300u);
      let signs = byte_at(w + 34u + 4u * g + l);
      let low = IQ_TABLES[IQ2S_GRID + 2u * point];
      let high = IQ_TABLES[IQ2S_GRID + 2u * point + 1u];
      var group = 0;
      for (var j = 0u; j < 8u; j++) {
        group += with_sign(point_u8(low, high, j), signs, j) * act_q(a + 32u * g + 8u * l + j);
      }
      sum += i32(2u * ((scales >> (4u * (l >> 1u))) & 15u) + 1u) * group;
    }
  }
  return f32(sum) * (d * act_scale(a) * 0.125);
}
