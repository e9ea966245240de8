#!/bin/sh
# Builds the CPU kernels (engine/quant/*.c, activations.c, attention.c, probe.c, vector_ops.c) into two WebAssembly
# modules with SIMD128, shared memory (imported, so every worker's instance sees the same weights)
# and no libc: kernels.wasm, and kernels_relaxed.wasm, which also uses relaxed SIMD (its integer
# dot product; the runtime picks it where it validates). Needs Debian's clang-19 and lld-19
# (apt-get install clang-19 lld-19), and Deno, which writes the i-quants' grids from
# engine/quant/_iq_grids.ts to a header first. The build is reproducible: kernels_test.ts checks
# that the committed modules are what this produces.
#
#   engine/backend/cpu/build.sh [OUT_DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "${1:-$here}" && pwd)
clang=${CLANG:-clang-19}
# sources in a fixed order (and with paths relative to the repository) so the output is byte-stable
cd "$here/../../.."
generated=$(mktemp -d)
trap 'rm -rf "$generated"' EXIT
"${DENO:-deno}" eval --quiet --no-config \
  'import { gridsC } from "./engine/quant/_iq_grids.ts"; await Deno.stdout.write(new TextEncoder().encode(gridsC()));' \
  >"$generated/iq_grids.h"
build() {
  "$clang" --target=wasm32 -msimd128 "$@" -matomics -mbulk-memory -mmutable-globals -O3 -nostdlib \
    -ffile-prefix-map="$PWD"=. -I"$generated" \
    -Wl,--no-entry -Wl,--import-memory -Wl,--shared-memory -Wl,--max-memory=4294967296 \
    -Wl,--export=__stack_pointer -Wl,--export=__heap_base -Wl,--strip-all \
    engine/backend/cpu/activations.c engine/backend/cpu/attention.c engine/backend/cpu/probe.c \
    engine/backend/cpu/vector_ops.c \
    engine/quant/float.c engine/quant/q4_0.c engine/quant/q4_1.c engine/quant/q5_0.c \
    engine/quant/q5_1.c engine/quant/q8_0.c engine/quant/iq4_nl.c engine/quant/q2_k.c \
    engine/quant/q3_k.c engine/quant/q4_k.c engine/quant/q5_k.c engine/quant/q6_k.c \
    engine/quant/iq4_xs.c engine/quant/iq2_xxs.c engine/quant/iq2_xs.c engine/quant/iq2_s.c \
    engine/quant/iq3_xxs.c engine/quant/iq3_s.c engine/quant/iq1_s.c engine/quant/iq1_m.c
}
build -o "$out/kernels.wasm"
build -mrelaxed-simd -o "$out/kernels_relaxed.wasm"
