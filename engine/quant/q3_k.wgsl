// Q3_K (block layout in q3_k.ts): x = d·(scale − 32)·q per sub-block of 16, q's two low bits
// packed as Q2_K, its third in hmask (cleared: subtract 4); 6-bit scales packed in 12 bytes.
// Against Q8_K activations.
const BLOCK_VALUES: u32 = 256u;
const BLOCK_BYTES: u32 = 110u;

fn block_dot(w: u32, a: u32) -> f32 {
  let d = f16_at(w + 108u);
  var sum = 0;
  for (var sub = 0u; sub < 16u; sub++) {
    // bytes 0–7 of scales hold the low 4 bits (two per byte), bytes 8–11 the high 2 bits
    let low = (byte_at(w + 96u + (sub & 7u)) >> (4u * (sub >> 3u))) & 15u;
    let high = (byte_at(w + 104u + (sub & 3u)) >> (2u * (sub >> 2u))) & 3u;
    let scale = i32(low | (high << 4u)) - 32;
    let qs = w + 32u + (sub >> 3u) * 32u + (sub & 1u) * 16u;
    let hmask = w + (sub & 1u) * 16u;
    let shift = ((sub >> 1u) & 3u) * 2u;
    // the hmask bit: one per (half, shift) pair, in order
    let mask = 1u << ((sub >> 1u) & 7u);
    var sub_sum = 0;
    for (var l = 0u; l < 16u; l++) {
      let q = i32((byte_at(qs + l) >> shift) & 3u) - select(4, 0, (byte_at(hmask + l) & mask) != 0u);
      sub_sum += q * act_q(a + sub * 16u + l);
    }
    sum += scale * sub_sum;
  }
  return f32(sum) * (d * act_scale(a));
}
