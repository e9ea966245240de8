/**
 * moebench's tokenizers against llama.cpp's on the same vocabularies: over 200 varied strings
 * (unicode, emoji, whitespace runs, digits, code), the token ids must be identical.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { openGGUF } from "../engine/gguf/read.ts";
import { synthesize } from "../engine/synth/synth.ts";
import { loadTokenizer } from "../engine/tokenizer/tokenizer.ts";
import { llamaCppUnavailableReason, tokenizeWithLlamaCpp } from "../peers/llama_cpp/llama_cpp.ts";
import { withTempDir } from "./_helpers.ts";

const unavailable = await llamaCppUnavailableReason();
if (unavailable) console.warn(`llama.cpp tokenizer comparisons skipped: ${unavailable}`);

const BASE = [
  "",
  " ",
  "  ",
  "\t",
  "\n",
  "\n\n\n",
  " \n ",
  "hello world",
  "Hello World",
  "HELLO",
  "the expert layers and the router",
  "the the the the",
  "  leading spaces",
  "trailing spaces   ",
  "multiple   spaces   between",
  "tabs\tand\ttabs",
  "line one\nline two\r\nline three",
  "12345",
  "3.14159",
  "1,000,000",
  "phone: +1 (555) 123-4567",
  "2026-11-25T08:09:00Z",
  "email@example.com",
  "https://example.com/path?q=1&r=2",
  "C:\\\\Windows\\\\System32",
  "function add(a, b) { return a + b; }",
  "def f(x):\n    return x ** 2",
  "for (let i = 0; i < n; i++) {}",
  "<s> not a special token here </s>",
  "<unk> <0x41>",
  "naïve café résumé",
  "Ünïcödé",
  "日本語のテキスト",
  "中文文本测试",
  "한국어 텍스트",
  "Русский текст",
  "Ελληνικά",
  "עברית",
  "العربية",
  "हिन्दी",
  "emoji 🧪🚀🎉",
  "👩‍👩‍👧‍👦 family",
  "flags 🇫🇷🇯🇵",
  "mixed 123abc!@#",
  "punctuation!?.,;:'\"()[]{}",
  "~`^*_-+=|\\/",
  "a",
  "ab",
  "abc",
  "zzzzzzzz",
  "ÀÉÎÕÜ",
  "\u00a0non-breaking\u00a0space",
  "zero\u200bwidth",
  "combining e\u0301",
  "math ∑∫√∞≠≤≥",
  "arrows ←↑→↓",
];

/** The base strings, then combinations of them, 260 in all. */
function corpus(): string[] {
  const texts = [...BASE];
  for (let i = 0; texts.length < 260; i++) {
    const a = BASE[i % BASE.length]!;
    const b = BASE[(i * 7 + 3) % BASE.length]!;
    const joiners = [" ", "", "  ", "\n", ". "];
    texts.push(a + joiners[i % joiners.length] + b);
  }
  return texts;
}

const CASES = [
  ["tiny-mixtral", "spm", "SentencePiece, 1,024 tokens"],
  ["mixtral-8x7b-shape", "spm", "SentencePiece, 32,000 tokens"],
  ["tiny-qwen2moe", "bpe", "byte-level BPE (qwen2), 1,024 tokens"],
  ["qwen3-30b-a3b-shape", "bpe", "byte-level BPE (qwen2), 151,936 tokens"],
] as const;

for (const [preset, tokenizerKind, description] of CASES) {
  Deno.test({
    name: `tokenization equals llama.cpp's on 260 strings (${description})`,
    ignore: unavailable !== null,
    async fn() {
      await withTempDir(async (dir) => {
        const path = join(dir, "m.gguf");
        // the vocabulary is what matters; keep the weights tiny
        await synthesize({
          preset,
          out: path,
          type: "Q4_0",
          scale: 0.0625,
          layers: 1,
          tokenizer: tokenizerKind,
        });
        using gguf = await openGGUF(path);
        const tokenizer = loadTokenizer(gguf);
        const texts = corpus();
        const theirs = await tokenizeWithLlamaCpp(path, texts);
        for (const [i, text] of texts.entries()) {
          assert.deepStrictEqual(
            tokenizer.encode(text, { addBos: false }),
            theirs[i],
            `text ${i}: ${JSON.stringify(text)}`,
          );
        }
      });
    },
  });
}
