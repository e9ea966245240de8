// What the mat-vec (matvec.wgsl) and the mat-mat (matmat.wgsl) over weights kept in their GGUF
// blocks share: bindings, shape, and how a format's WGSL (engine/quant/<format>.wgsl) reads
// blocks and activations. The format defines BLOCK_VALUES, BLOCK_BYTES and block_dot(w, a): one
// weight block (its first byte at `w`) against the activations from index `a`, as ggml's CPU dot
// products see them (rounded by activations.wgsl): floats against float weights; against
// quantized weights, integer quants whose products sum exactly, scaled once per block as ggml
// does. Each kernel defines weight_word(i): word i of where it reads weights from.

@group(0) @binding(0) var<storage, read> weights: array<u32>;
@group(0) @binding(1) var<storage, read> act: array<f32>;
// per 32 activations: the block's scale d and (Q8_1) ggml's stored block sum
@group(0) @binding(2) var<storage, read> act_blocks: array<vec2f>;
@group(0) @binding(3) var<storage, read_write> result: array<f32>;

struct Shape {
  rows: u32,
  cols: u32,
  row_bytes: u32,
  // where row 0 starts in `weights`: a matrix may sit anywhere in a bound window
  first_byte: u32,
  // token t's row r lands at result[t·out_stride + out_first + r]: a matrix too large for one
  // binding runs as windows of rows, each writing its part of the output rows
  out_stride: u32,
  out_first: u32,
  // a stack of `heads` matrices one after another (latent attention's per-head projections):
  // activation row token·heads + head goes through matrix `head`, its output rows landing
  // `out_head_stride` apart; with more than one, workgroup y counts heads (and x all rows)
  heads: u32,
  out_head_stride: u32,
  // tokens (rows of activations per head)
  tokens: u32,
}
@group(0) @binding(4) var<uniform> shape: Shape;
// binding 5: the i-quants' grids (IQ_TABLES of engine/quant/_iq_grids.ts), declared by _iq.wgsl

// Activation `i`'s integer quant, and the scale and stored sum of the block holding `i`.
fn act_q(i: u32) -> i32 {
  return i32(act[i]);
}

fn act_scale(i: u32) -> f32 {
  return act_blocks[i / 32u].x;
}

fn act_sum(i: u32) -> f32 {
  return act_blocks[i / 32u].y;
}

// Weights are bound as words; blocks are not word-aligned (Q4_0 is 18 bytes), so fields are
// read by byte offset. Every f16 and u16 field of every format sits at an even offset, every f32
// at a multiple of 4.
fn word_at(at: u32) -> u32 {
  return weight_word(at >> 2u);
}

fn byte_at(at: u32) -> u32 {
  return (weight_word(at >> 2u) >> ((at & 3u) * 8u)) & 0xffu;
}

fn i8_at(at: u32) -> i32 {
  return (i32(byte_at(at)) << 24u) >> 24u;
}

fn u16_at(at: u32) -> u32 {
  return (weight_word(at >> 2u) >> ((at & 2u) * 8u)) & 0xffffu;
}

fn f16_at(at: u32) -> f32 {
  return unpack2x16float(u16_at(at)).x;
}

