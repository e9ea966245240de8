import assert from "node:assert/strict";
import { BytePairTokenizer, byteToUnicode } from "./bpe.ts";
import { TOKEN_TYPE } from "./token_type.ts";

function tiny(): BytePairTokenizer {
  const bytes = byteToUnicode();
  const tokens = [...bytes, "Ġt", "he", "Ġthe", "<|endoftext|>"];
  const types = tokens.map((_, i) => (i === tokens.length - 1 ? TOKEN_TYPE.control : 1));
  return new BytePairTokenizer(tokens, ["Ġ t", "h e", "Ġt he"], types, {
    pre: "qwen2",
    bosId: null,
    eosId: tokens.length - 1,
    addBos: false,
  });
}

Deno.test("byteToUnicode() maps every byte to a distinct printable character", () => {
  const map = byteToUnicode();
  assert.equal(new Set(map).size, 256);
  assert.equal(map[0x41], "A");
  assert.equal(map[0x20], "Ġ", "space is GPT-2's Ġ (U+0120)");
});

Deno.test("BPE merges by rank and decodes back to the text, bytes and all", () => {
  const tokenizer = tiny();
  assert.deepStrictEqual(tokenizer.encode(" the"), [258]);
  assert.deepStrictEqual(tokenizer.encode("the"), [byteToUnicode().indexOf("t"), 257]);
  for (const text of ["the the", "naïve 🧪 日本", "a\n\n b", ""]) {
    assert.equal(tokenizer.decode(tokenizer.encode(text)), text);
  }
});

Deno.test("BPE control tokens are text unless parsed, and render as nothing", () => {
  const tokenizer = tiny();
  assert.ok(tokenizer.encode("<|endoftext|>", { parseSpecial: true }).includes(259));
  assert.ok(!tokenizer.encode("<|endoftext|>").includes(259));
  assert.equal(tokenizer.decode([259]), "");
  assert.throws(
    () =>
      new BytePairTokenizer([], [], [], { pre: "nope", bosId: null, eosId: null, addBos: false }),
    /pre-tokenizer "nope" is not supported/,
  );
});
