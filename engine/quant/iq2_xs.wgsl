// IQ2_XS (block layout in iq2_xs.ts): per 8 values a u16 of a 9-bit IQ2XS_GRID index and 7 sign
// bits (KSIGNS completes the byte); a 4-bit scale s per 16 values; x = d·(2s + 1)/8·point·sign.
// Against Q8_K activations. Needs _iq.wgsl.
const BLOCK_VALUES: u32 = 256u;
const BLOCK_BYTES: u32 = 74u;

fn block_dot(w: u32, a: u32) -> f32 {
  let d = f16_at(w);
  var sum = 0;
  for (var half = 0u; half < 16u; half++) {
    let scale = (byte_at(w + 66u + (half >> 1u)) >> (4u * (half & 1u))) & 15u;
    var group = 0;
    for (var l = 0u; l < 2u; l++) {
      let q = u16_at(w + 2u + 4u * half + 2u * l);
      let signs = IQ_TABLES[KSIGNS + (q >> 9u)];
      let low = IQ_TABLES[IQ2XS_GRID + 2u * (q & 511u)];
      let high = IQ_TABLES[IQ2XS_GRID + 2u * (q & 511u) + 1u];
      for (var j = 0u; j < 8u; j++) {
        group += with_sign(point_u8(low, high, j), signs, j) * act_q(a + 16u * half + 8u * l + j);
      }
    }
    sum += i32(2u * scale + 1u) * group;
  }
  return f32(sum) * (d * act_scale(a) * 0.125);
}
