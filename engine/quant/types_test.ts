import assert from "node:assert/strict";
import { FIELD_KIND_BYTES, GGML_TYPES, ggmlType, ggmlTypeById, tensorByteSize } from "./types.ts";
import { loadGgml } from "../../peers/llama_cpp/ggml.ts";

Deno.test("every block layout sums to its type's bytes per block", () => {
  for (const type of GGML_TYPES) {
    const bytes = type.fields.reduce((sum, f) => sum + FIELD_KIND_BYTES[f.kind] * f.count, 0);
    assert.deepStrictEqual(bytes, type.bytesPerBlock, type.name);
  }
});

Deno.test("type ids and names are unique and look-ups agree", () => {
  assert.deepStrictEqual(new Set(GGML_TYPES.map((t) => t.id)).size, GGML_TYPES.length);
  for (const type of GGML_TYPES) {
    assert.deepStrictEqual(ggmlTypeById(type.id), type);
    assert.deepStrictEqual(ggmlType(type.name.toLowerCase()), type);
  }
  assert.deepStrictEqual(ggmlTypeById(4), undefined, "Q4_2 was removed from ggml");
});

Deno.test("tensorByteSize() of a Mixtral expert tensor", () => {
  assert.deepStrictEqual(
    tensorByteSize(ggmlType("Q4_K"), [4096, 14336, 8]),
    4096 * 14336 * 8 / 256 * 144,
  );
});

const ggml = await loadGgml().catch((error) => {
  console.warn(`ggml oracle unavailable, its tests are skipped: ${error.message}`);
  return null;
});

Deno.test({
  name: "the type table matches ggml's own type traits",
  ignore: ggml === null,
  fn() {
    for (const type of GGML_TYPES) {
      assert.deepStrictEqual(Number(ggml!.typeSize(type.id)), type.bytesPerBlock, type.name);
      assert.deepStrictEqual(Number(ggml!.blockSize(type.id)), type.blockSize, type.name);
      assert.deepStrictEqual(ggml!.typeName(type.id).toUpperCase(), type.name, `id ${type.id}`);
    }
  },
});
