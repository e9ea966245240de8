import assert from "node:assert/strict";
import { openGGUF } from "../gguf/read.ts";
import { synthesize } from "../synth/synth.ts";
import { SentencePieceTokenizer } from "./spm.ts";
import { withTempDir } from "../../tests/_helpers.ts";

async function tinyTokenizer(): Promise<SentencePieceTokenizer> {
  return await withTempDir(async (dir) => {
    const out = `${dir}/m.gguf`;
    await synthesize({ preset: "tiny-mixtral", out, type: "Q4_0", layers: 1 });
    using gguf = await openGGUF(out);
    return SentencePieceTokenizer.fromGGUF(gguf);
  });
}

Deno.test("decode(encode(text)) gives the text back, with SentencePiece's leading space", async () => {
  const tokenizer = await tinyTokenizer();
  for (const text of ["the router", "naïve 🧪 日本", "  spaces\n\ttabs", "x"]) {
    assert.equal(tokenizer.decode(tokenizer.encode(text, { addBos: false })), ` ${text}`);
  }
});

Deno.test("encode() adds BOS as the model says, and parses control tokens only when asked", async () => {
  const tokenizer = await tinyTokenizer();
  assert.equal(tokenizer.encode("the")[0], 1);
  assert.deepStrictEqual(tokenizer.encode("", { addBos: true }), [1]);
  assert.deepStrictEqual(tokenizer.encode("", { addBos: false }), []);
  const parsed = tokenizer.encode("the</s>the", { addBos: false, parseSpecial: true });
  assert.ok(parsed.includes(2), `${parsed}`);
  const plain = tokenizer.encode("the</s>the", { addBos: false });
  assert.ok(!plain.includes(2), `${plain}`);
  assert.equal(tokenizer.decode([1, 2]), "", "control tokens render as nothing");
});

Deno.test("characters outside the vocabulary fall back to their UTF-8 byte tokens", async () => {
  const tokenizer = await tinyTokenizer();
  // "é" is not a piece: its bytes C3 A9 become <0xC3> <0xA9> (ids 3 + byte)
  const ids = tokenizer.encode("é", { addBos: false });
  assert.deepStrictEqual(ids.slice(-2), [3 + 0xc3, 3 + 0xa9]);
});
