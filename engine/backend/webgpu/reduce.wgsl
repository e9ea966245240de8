// Workgroup reductions shared by the kernels: every invocation of the workgroup calls them.

const WORKGROUP: u32 = 64u;
var<workgroup> partial: array<f32, WORKGROUP>;

fn reduce_max(lane: u32, value: f32) -> f32 {
  partial[lane] = value;
  workgroupBarrier();
  for (var step = WORKGROUP / 2u; step > 0u; step >>= 1u) {
    if (lane < step) {
      partial[lane] = max(partial[lane], partial[lane + step]);
    }
    workgroupBarrier();
  }
  let result = partial[0];
  workgroupBarrier();
  return result;
}

fn reduce_sum(lane: u32, value: f32) -> f32 {
  partial[lane] = value;
  workgroupBarrier();
  for (var step = WORKGROUP / 2u; step > 0u; step >>= 1u) {
    if (lane < step) {
      partial[lane] += partial[lane + step];
    }
    workgroupBarrier();
  }
  let result = partial[0];
  workgroupBarrier();
  return result;
}
