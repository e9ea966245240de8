// IQ1_S (block layout in iq1_s.ts): per 8 values an 11-bit index into IQ1S_GRID's −1/0/1 points
// (a byte of qs, three bits of qh); per 32 a 3-bit scale s and the sign of a shift of ±1/8;
// x = d·(2s + 1)·(point ± 1/8). Everything is summed in eighths, as one integer. Against Q8_K
// activations. Needs _iq.wgsl.
const BLOCK_VALUES: u32 = 256u;
const BLOCK_BYTES: u32 = 50u;

fn block_dot(w: u32, a: u32) -> f32 {
  let d = f16_at(w);
  var eighths = 0;
  for (var g = 0u; g < 8u; g++) {
    let high_bits = u16_at(w + 34u + 2u * g);
    var group = 0;
    var activations = 0;
    for (var l = 0u; l < 4u; l++) {
      let point = byte_at(w + 2u + 4u * g + l) | (((high_bits >> (3u * l)) & 7u) << 8u);
      let low = IQ_TABLES[IQ1S_GRID + 2u * point];
      let high = IQ_TABLES[IQ1S_GRID + 2u * point + 1u];
      for (var j = 0u; j < 8u; j++) {
        let q = act_q(a + 32u * g + 8u * l + j);
        group += point_i8(low, high, j) * q;
        activations += q;
      }
    }
    let shift = select(activations, -activations, (high_bits & 0x8000u) != 0u);
    eighths += i32(2u * ((high_bits >> 12u) & 7u) + 1u) * (8 * group + shift);
  }
  return f32(eighths) * (d * act_scale(a) * 0.125);
}
