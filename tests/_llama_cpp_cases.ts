/**
 * What the llama.cpp fixtures record, shared by the script that records them
 * (`record_llama_cpp_fixtures.ts`) and the tests that compare against them: the synthetic
 * models (preset, seed, quantization by llama.cpp's own quantizer), the teacher-forced token
 * sequence, and the strings to tokenize.
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { synthesize } from "../engine/synth/synth.ts";
import { Prng } from "../engine/synth/prng.ts";
import type { FileTypeName } from "../engine/gguf/file_type.ts";
import { quantizeWithLlamaCpp } from "../peers/llama_cpp/llama_cpp.ts";

/** Where the fixtures live. */
export const FIXTURES = new URL("./fixtures/llama_cpp/", import.meta.url);

/** The architectures every logit fixture covers, as synthetic presets. */
export const LOGIT_PRESETS = [
  "tiny-mixtral",
  "tiny-qwen2moe",
  "tiny-qwen3moe",
  "tiny-olmoe",
  "tiny-deepseek2",
] as const;

/**
 * The file types: F32/F16 straight from `synth`, the rest made from the F32 file by llama.cpp's
 * quantizer (the `_M` mixes put Q6_K/Q5_K into some tensors, as users' files have them).
 */
export const LOGIT_TYPES: readonly FileTypeName[] = [
  "F32",
  "F16",
  "Q8_0",
  "Q4_0",
  "Q4_1",
  "Q5_1",
  "Q2_K",
  "Q3_K_M",
  "Q4_K_M",
  "Q5_K_M",
  "Q6_K",
  "IQ4_NL",
  "IQ4_XS",
];

/** The weights' seed of every logit fixture's model. */
export const MODEL_SEED = 3;

/** How many logits per position a fixture keeps. */
export const FIXTURE_TOP = 8;

/** BOS, then 47 pseudo-random ordinary tokens of the 1024-token synthetic vocabulary. */
export function evalTokens(): number[] {
  const prng = new Prng(99);
  return [1, ...Array.from({ length: 47 }, () => 3 + (prng.nextU32() % 1021))];
}

/** The file name of a logit fixture. */
export function logitFixtureName(preset: string, type: FileTypeName): string {
  return `logits/${preset}-${type}.json`;
}

/** A recorded llama.cpp teacher-forced run. */
export interface LogitFixture {
  readonly preset: string;
  readonly type: FileTypeName;
  readonly seed: number;
  /** SHA-256 of the model file llama.cpp ran: a test regenerates it and checks the hash. */
  readonly sha256: string;
  readonly llamaCpp: string;
  readonly tokens: number[];
  /** After each token, llama.cpp's top logits as `[id, logit]`, best first (no flash attention). */
  readonly top: [number, number][][];
  /**
   * How far llama.cpp moves from its own logits when flash attention is switched on, or when it
   * is fed one token at a time (the same function, summed in other orders; the worse of the two
   * per figure): the drift that numeric noise alone causes on this file, as the acceptance
   * measures it.
   */
  readonly selfAgreement: { readonly top1Agreement: number; readonly meanTop3Delta: number };
}

/**
 * Writes the model of a logit fixture to `dir` and returns its path: `synth` for F32/F16,
 * llama.cpp's quantizer on the F32 file for the rest.
 * @throws {LlamaCppUnavailable} for quantized types where llama.cpp cannot be loaded.
 */
export async function buildFixtureModel(
  dir: string,
  preset: string,
  type: FileTypeName,
): Promise<string> {
  const path = join(dir, `${preset}-${type}.gguf`);
  if (type === "F32" || type === "F16") {
    await synthesize({ preset, out: path, type, seed: MODEL_SEED });
    return path;
  }
  const f32 = join(dir, `${preset}-F32.gguf`);
  await synthesize({ preset, out: f32, type: "F32", seed: MODEL_SEED });
  await quantizeWithLlamaCpp(f32, path, type);
  return path;
}

/** SHA-256 of a file, hex. */
export async function sha256File(path: string): Promise<string> {
  return createHash("sha256").update(await Deno.readFile(path)).digest("hex");
}

/** A vocabulary a tokenization fixture covers: a preset's, with a BPE pre-tokenizer. */
export interface TokenizerCase {
  readonly preset: string;
  readonly tokenizer: "spm" | "bpe";
  /** `tokenizer.ggml.pre` of a BPE vocabulary (synth's default: qwen2). */
  readonly pre?: string;
  readonly description: string;
}

/** The BPE pre-tokenizers recorded on the small vocabulary beside qwen2 (llama.cpp's groups). */
const MORE_PRE_TOKENIZERS = [
  "default",
  "gpt-2",
  "llama-bpe",
  "dbrx",
  "starcoder",
  "deepseek-llm",
  "deepseek-coder",
  "deepseek-v3",
];

/** The vocabularies the tokenization fixtures cover. */
export const TOKENIZER_CASES: readonly TokenizerCase[] = [
  { preset: "tiny-mixtral", tokenizer: "spm", description: "SentencePiece, 1,024 tokens" },
  { preset: "mixtral-8x7b-shape", tokenizer: "spm", description: "SentencePiece, 32,000 tokens" },
  {
    preset: "tiny-qwen2moe",
    tokenizer: "bpe",
    description: "byte-level BPE (qwen2), 1,024 tokens",
  },
  {
    preset: "qwen3-30b-a3b-shape",
    tokenizer: "bpe",
    description: "byte-level BPE (qwen2), 151,936 tokens",
  },
  ...MORE_PRE_TOKENIZERS.map((pre) => ({
    preset: "tiny-qwen2moe",
    tokenizer: "bpe" as const,
    pre,
    description: `byte-level BPE (${pre}), 1,024 tokens`,
  })),
  ...["llama-bpe", "deepseek-v3"].map((pre) => ({
    preset: "qwen3-30b-a3b-shape",
    tokenizer: "bpe" as const,
    pre,
    description: `byte-level BPE (${pre}), 151,936 tokens`,
  })),
];

/** A recorded llama.cpp tokenization of the corpus with one vocabulary. */
export interface TokenizerFixture {
  readonly preset: string;
  readonly tokenizer: "spm" | "bpe";
  readonly pre?: string;
  readonly llamaCpp: string;
  readonly texts: string[];
  /** llama.cpp's ids for each text (no BOS; special tokens written in the text stay text). */
  readonly ids: number[][];
}

/** The file name of a tokenization fixture. */
export function tokenizerFixtureName({ preset, pre }: TokenizerCase): string {
  return `tokens/${preset}${pre ? `-${pre}` : ""}.json`;
}

/** Writes a model with the case's vocabulary (and tiny weights: only the vocabulary matters). */
export async function buildVocabularyModel(
  dir: string,
  { preset, tokenizer, pre }: TokenizerCase,
): Promise<string> {
  const path = join(dir, `${preset}-${pre ?? tokenizer}-vocab.gguf`);
  await synthesize({
    preset,
    out: path,
    type: "Q4_0",
    scale: 0.0625,
    layers: 1,
    tokenizer,
    ...(pre ? { pre } : {}),
  });
  return path;
}

/** Strings for the tokenizers: unicode, emoji, whitespace runs, digits, code. */
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
  "next\u0085line and \u3000ideographic space",
  "\ufeffbyte order mark",
  "1234567 grouped 12 345",
];

/** The base strings, then combinations of them, 260 in all. */
export function corpus(): string[] {
  const texts = [...BASE];
  for (let i = 0; texts.length < 260; i++) {
    const a = BASE[i % BASE.length]!;
    const b = BASE[(i * 7 + 3) % BASE.length]!;
    const joiners = [" ", "", "  ", "\n", ". "];
    texts.push(a + joiners[i % joiners.length] + b);
  }
  return texts;
}
