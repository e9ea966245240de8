// Q6_K (block layout in q6_k.ts): x = d·scale·(q − 32) per sub-block of 16, q's low 4 bits in
// ql, high 2 in qh: per 128-value half, byte l of ql holds elements l (low nibble) and l+64
// (high), byte l+32 elements l+32 and l+96; byte l of qh the high bits of all four. Against
// Q8_K activations.
const BLOCK_VALUES: u32 = 256u;
const BLOCK_BYTES: u32 = 210u;

fn block_dot(w: u32, a: u32) -> f32 {
  let d = f16_at(w + 208u);
  var sum = 0;
  for (var half = 0u; half < 2u; half++) {
    let ql = w + half * 64u;
    let qh = w + 128u + half * 32u;
    let scales = w + 192u + half * 8u;
    let first = a + half * 128u;
    for (var l = 0u; l < 32u; l++) {
      let high = byte_at(qh + l);
      let low = byte_at(ql + l);
      let low32 = byte_at(ql + l + 32u);
      let sc = scales + (l >> 4u);
      sum += i8_at(sc) * (i32((low & 15u) | ((high & 3u) << 4u)) - 32) * act_q(first + l);
      sum += i8_at(sc + 2u) * (i32((low32 & 15u) | (((high >> 2u) & 3u) << 4u)) - 32) *
        act_q(first + l + 32u);
      sum += i8_at(sc + 4u) * (i32((low >> 4u) | (((high >> 4u) & 3u) << 4u)) - 32) *
        act_q(first + l + 64u);
      sum += i8_at(sc + 6u) * (i32((low32 >> 4u) | (((high >> 6u) & 3u) << 4u)) - 32) *
        act_q(first + l + 96u);
    }
  }
  return f32(sum) * (d * act_scale(a));
}
