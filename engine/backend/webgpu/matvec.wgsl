// The mat-vec (and the mat-vec of a stack of per-head matrices) over weights in their GGUF
// blocks, read straight from the bound buffer. Needs a format's WGSL, matmul.wgsl, reduce.wgsl.

fn weight_word(i: u32) -> u32 {
  return weights[i];
}

// One workgroup per (row, head, token): its threads take the row's blocks in turn, then add up.
@compute @workgroup_size(WORKGROUP)
fn matvec(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) lane: u32) {
  var row = group.x + group.y * 65535u;
  var head = 0u;
  if (shape.heads > 1u) {
    row = group.x;
    head = group.y;
  }
  let token = group.z;
  let blocks = shape.cols / BLOCK_VALUES;
  var sum = 0.0;
  if (row < shape.rows) {
    let row_start = shape.first_byte + (head * shape.rows + row) * shape.row_bytes;
    let act_start = (token * shape.heads + head) * shape.cols;
    for (var b = lane; b < blocks; b += WORKGROUP) {
      sum += block_dot(row_start + b * BLOCK_BYTES, act_start + b * BLOCK_VALUES);
    }
  }
  let total = reduce_sum(lane, sum);
  if (lane == 0u && row < shape.rows) {
    result[token * shape.out_stride + shape.out_first + head * shape.out_head_stride + row] = total;
  }
}
