// IQ3_S (block layout in iq3_s.ts): per 4 values a 9-bit IQ3S_GRID index (a byte of qs, a bit of
// qh), per 8 a byte of explicit signs, per 32 a 4-bit scale s; x = d·(2s + 1)·point·sign.
// Against Q8_K activations. Needs _iq.wgsl.
const BLOCK_VALUES: u32 = 256u;
const BLOCK_BYTES: u32 = 110u;

fn block_dot(w: u32, a: u32) -> f32 {
  let d = f16_at(w);
  var sum = 0;
  for (var g = 0u; g < 8u; g++) {
    let high_bits = byte_at(w + 66u + g);
    let scale = (byte_at(w + 106u + (g >> 1u)) >> (4u * (g & 1u))) & 15u;
    var group = 0;
    for (var l = 0u; l < 4u; l++) {
      let signs = byte_at(w + 74u + 4u * g + l);
      // point p = 2l, 2l + 1 of the group: qh bit p is its index's ninth bit
      let first = byte_at(w + 2u + 8u * g + 2u * l) | ((high_bits << (8u - 2u * l)) & 256u);
      let second = byte_at(w + 3u + 8u * g + 2u * l) | ((high_bits << (7u - 2u * l)) & 256u);
      let low = IQ_TABLES[IQ3S_GRID + first];
      let high = IQ_TABLES[IQ3S_GRID + second];
      for (var j = 0u; j < 8u; j++) {
        group += with_sign(point_u8(low, high, j), signs, j) * act_q(a + 32u * g + 8u * l + j);
      }
    }
    sum += i32(2u * scale + 1u) * group;
  }
  return f32(sum) * (d * act_scale(a));
}
