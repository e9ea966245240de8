// f32 → f16 → f32, nearest with ties to even, on the bits (roundToF16 in activations.ts), so
// no GPU's own conversion rounding is relied on
fn round_to_f16(value: f32) -> f32 {
  let bits = bitcast<u32>(value);
  let exponent = (bits >> 23u) & 255u;
  if (exponent >= 143u) {
    if (exponent == 255u) {
      return value;
    }
    return bitcast<f32>((bits & 0x80000000u) | 0x7f800000u);
  }
  if (exponent >= 113u) {
    var result = (bits + 0xfffu + ((bits >> 13u) & 1u)) & 0xffffe000u;
    if (((result >> 23u) & 255u) >= 143u) {
      result = (bits & 0x80000000u) | 0x7f800000u;
    }
    return bitcast<f32>(result);
  }
  // a subnormal half or zero: |x| to the nearest multiple of 2^-24 (scaling by powers of two is
  // exact; an add-and-subtract trick as in activations.ts may be folded away by the compiler)
  let magnitude = round(bitcast<f32>(bits & 0x7fffffffu) * 16777216.0) * 5.9604644775390625e-8;
  return bitcast<f32>(bitcast<u32>(magnitude) | (bits & 0x80000000u));
}
