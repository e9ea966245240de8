// IQ1_M (block layout in iq1_m.ts): per 8 values an 11-bit index into IQ1S_GRID's −1/0/1 points
// (a byte of qs, three bits of a qh nibble) and the sign of a shift of ±1/8 (the nibble's fourth
// bit); per 16 a 3-bit scale s; the f16 d in the top nibbles of the four scale words;
// x = d·(2s + 1)·(point ± 1/8). Everything is summed in eighths, as one integer. Against Q8_K
// activations. Needs _iq.wgsl.
const BLOCK_VALUES: u32 = 256u;
const BLOCK_BYTES: u32 = 56u;

fn block_dot(w: u32, a: u32) -> f32 {
  let d_bits = (u16_at(w + 48u) >> 12u) | ((u16_at(w + 50u) >> 8u) & 0x00f0u) |
    ((u16_at(w + 52u) >> 4u) & 0x0f00u) | (u16_at(w + 54u) & 0xf000u);
  let d = unpack2x16float(d_bits).x;
  var eighths = 0;
  for (var g = 0u; g < 8u; g++) {
    let scales = u16_at(w + 48u + 2u * (g >> 1u)) >> (6u * (g & 1u));
    for (var l = 0u; l < 4u; l++) {
      let nibble = (byte_at(w + 32u + 2u * g + (l >> 1u)) >> (4u * (l & 1u))) & 15u;
      let point = byte_at(w + 4u * g + l) | ((nibble & 7u) << 8u);
      let low = IQ_TABLES[IQ1S_GRID + 2u * point];
      let high = IQ_TABLES[IQ1S_GRID + 2u * point + 1u];
      var products = 0;
      var activations = 0;
      for (var j = 0u; j < 8u; j++) {
        let q = act_q(a + 32u * g + 8u * l + j);
        products += point_i8(low, high, j) * q;
        activations += q;
      }
      let shift = select(activations, -activations, (nibble & 8u) != 0u);
      eighths += i32(2u * ((scales >> (3u * (l >> 1u))) & 7u) + 1u) * (8 * products + shift);
    }
  }
  return f32(eighths) * (d * act_scale(a) * 0.125);
}
