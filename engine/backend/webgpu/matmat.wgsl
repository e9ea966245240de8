// The mat-mat of prompt processing over weights in their GGUF blocks: one workgroup per (row,
// TOKENS tokens) copies the row into workgroup memory a chunk at a time and runs every block of
// the chunk against all its tokens, so each weight byte leaves the buffer once per TOKENS tokens
// instead of once per token. A chunk is a multiple of WORKGROUP blocks: each thread then takes
// the same blocks in the same order as in the mat-vec, and the sums are the mat-vec's, bit for
// bit. Needs a format's WGSL, matmul.wgsl, reduce.wgsl.

const TOKENS: u32 = 8u;
// 13.6 KB of weights (with reduce.wgsl's scratch, under WebGPU's guaranteed 16 KiB): 64 blocks
// of the largest format (Q6_K, 210 bytes)
const TILE_WORDS: u32 = 3400u;
const CHUNK_BLOCKS: u32 = ((TILE_WORDS * 4u - 4u) / (WORKGROUP * BLOCK_BYTES)) * WORKGROUP;
var<workgroup> tile: array<u32, TILE_WORDS>;

fn weight_word(i: u32) -> u32 {
  return tile[i];
}

@compute @workgroup_size(WORKGROUP)
fn matmat(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) lane: u32) {
  let row = group.x + group.y * 65535u;
  let first_token = group.z * TOKENS;
  let blocks = shape.cols / BLOCK_VALUES;
  // rows past the end load the last row's bytes (every thread takes part in the barriers)
  let row_start = shape.first_byte + min(row, shape.rows - 1u) * shape.row_bytes;
  var sums: array<f32, TOKENS>;
  for (var chunk = 0u; chunk < blocks; chunk += CHUNK_BLOCKS) {
    let chunk_blocks = min(CHUNK_BLOCKS, blocks - chunk);
    let start = row_start + chunk * BLOCK_BYTES;
    let first_word = start >> 2u;
    let words = ((start + chunk_blocks * BLOCK_BYTES + 3u) >> 2u) - first_word;
    for (var i = lane; i < words; i += WORKGROUP) {
      tile[i] = weights[first_word + i];
    }
    workgroupBarrier();
    // the chunk's first block, as a byte address in the tile
    let base = start - first_word * 4u;
    for (var b = lane; b < chunk_blocks; b += WORKGROUP) {
      for (var t = 0u; t < TOKENS; t++) {
        let token = first_token + t;
        if (token < shape.tokens) {
          let values = token * shape.cols + (chunk + b) * BLOCK_VALUES;
          sums[t] += block_dot(base + b * BLOCK_BYTES, values);
        }
      }
    }
    workgroupBarrier();
  }
  for (var t = 0u; t < TOKENS; t++) {
    let total = reduce_sum(lane, sums[t]);
    let token = first_token + t;
    if (lane == 0u && row < shape.rows && token < shape.tokens) {
      result[token * shape.out_stride + shape.out_first + row] = total;
    }
  }
}
