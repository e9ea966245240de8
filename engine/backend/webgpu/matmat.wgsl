// The mat-mat of prompt processing over weights in their GGUF blocks: one workgroup per (row,
// TOKENS tokens). Each thread takes the row's blocks in the same order as in the mat-vec and runs
// each block against all the workgroup's tokens while its bytes are in the cache, so a weight
// leaves memory once per TOKENS tokens, and the sums are the mat-vec's, bit for bit. (Copying the
// row into workgroup memory first, as this did, made Mesa's llvmpipe spend one to two minutes
// compiling each weight type's kernel: its loads from writable workgroup memory; reading the
// read-only binding compiles in a second.) Needs a format's WGSL, matmul.wgsl, reduce.wgsl.

const TOKENS: u32 = 8u;

fn weight_word(i: u32) -> u32 {
  return weights[i];
}

@compute @workgroup_size(WORKGROUP)
fn matmat(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) lane: u32) {
  let row = group.x + group.y * 65535u;
  let first_token = group.z * TOKENS;
  let tokens = min(TOKENS, shape.tokens - first_token);
  let blocks = shape.cols / BLOCK_VALUES;
  var sums: array<f32, TOKENS>;
  if (row < shape.rows) {
    let row_start = shape.first_byte + row * shape.row_bytes;
    for (var b = lane; b < blocks; b += WORKGROUP) {
      for (var t = 0u; t < tokens; t++) {
        let values = (first_token + t) * shape.cols + b * BLOCK_VALUES;
        sums[t] += block_dot(row_start + b * BLOCK_BYTES, values);
      }
    }
  }
  // every thread takes part in the reductions' barriers, rows past the end too
  for (var t = 0u; t < tokens; t++) {
    let total = reduce_sum(lane, sums[t]);
    if (lane == 0u && row < shape.rows) {
      result[(first_token + t) * shape.out_stride + shape.out_first + row] = total;
    }
  }
}
