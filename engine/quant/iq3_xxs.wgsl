// IQ3_XXS (block layout in iq3_xxs.ts): per 32 values 8 IQ3XXS_GRID points of 4 (index bytes)
// and a u32 of 4 × 7 sign bits (KSIGNS completes each byte) with a 4-bit scale s on top;
// x = d·(2s + 1)/4·point·sign. Against Q8_K activations. Needs _iq.wgsl.
const BLOCK_VALUES: u32 = 256u;
const BLOCK_BYTES: u32 = 98u;

fn block_dot(w: u32, a: u32) -> f32 {
  let d = f16_at(w);
  var sum = 0;
  for (var g = 0u; g < 8u; g++) {
    let signs_and_scale = u32_at(w + 66u + 4u * g);
    var group = 0;
    for (var l = 0u; l < 4u; l++) {
      let signs = IQ_TABLES[KSIGNS + ((signs_and_scale >> (7u * l)) & 127u)];
      let low = IQ_TABLES[IQ3XXS_GRID + byte_at(w + 2u + 8u * g + 2u * l)];
      let high = IQ_TABLES[IQ3XXS_GRID + byte_at(w + 3u + 8u * g + 2u * l)];
      for (var j = 0u; j < 8u; j++) {
        group += with_sign(point_u8(low, high, j), signs, j) * act_q(a + 32u * g + 8u * l + j);
      }
    }
    sum += i32(2u * (signs_and_scale >> 28u) + 1u) * group;
  }
  return f32(sum) * (d * act_scale(a) * 0.25);
}
