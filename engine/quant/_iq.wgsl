// Shared by the i-quants' WGSL (iq2_*.wgsl, iq3_*.wgsl, iq1_*.wgsl), after the constants that
// say where each table starts in IQ_TABLES (made by _iq_grids.ts): a grid's points as u32 words
// of value bytes (two per 8-value point), KSIGNS one per word.

@group(0) @binding(5) var<storage, read> IQ_TABLES: array<u32>;

// Value j (0 … 7) of an 8-value point whose words are `low` and `high`: unsigned, and signed
// (IQ1's −1, 0, 1)
fn point_u8(low: u32, high: u32, j: u32) -> i32 {
  return i32((select(low, high, j >= 4u) >> (8u * (j & 3u))) & 0xffu);
}

fn point_i8(low: u32, high: u32, j: u32) -> i32 {
  return (point_u8(low, high, j) << 24u) >> 24u;
}

// value, negated where bit j of `signs` is set
fn with_sign(value: i32, signs: u32, j: u32) -> i32 {
  return select(value, -value, ((signs >> j) & 1u) != 0u);
}

// the u32 at an even (not necessarily word-aligned) byte offset
fn u32_at(at: u32) -> u32 {
  return u16_at(at) | (u16_at(at + 2u) << 16u);
}
