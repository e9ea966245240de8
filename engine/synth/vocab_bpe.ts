/**
 * A deterministic byte-level BPE vocabulary (`tokenizer.ggml.model = "gpt2"`, pre-tokenizer
 * `qwen2`) of any size: the 256 byte characters, merges learned on a small built-in corpus
 * (most frequent pair first, ties broken by the pair's text), then reserved tokens up to the
 * size, and `<|endoftext|>` last.
 * @module
 */
import { byteToUnicode } from "../tokenizer/bpe.ts";
import { TOKEN_TYPE } from "../tokenizer/token_type.ts";
import { COMMON_WORDS } from "./vocab.ts";

/** A BPE vocabulary as GGUF stores it. */
export interface BpeVocabulary {
  readonly tokens: readonly string[];
  readonly types: readonly number[];
  readonly merges: readonly string[];
  /** `<|endoftext|>`: both BOS and EOS, as in Qwen's vocabularies. */
  readonly endOfText: number;
}

const CORPUS = [
  COMMON_WORDS.join(" "),
  "function add(a, b) { return a + b; }\nconst x = [1, 2, 3];\nfor (let i = 0; i < n; i++) {}",
  "def f(x):\n    return x ** 2\n\nprint(f(3))",
  "The expert layers route each token to the top experts. 1234567890",
  "naïve café résumé 日本語 中文 Русский",
].join("\n");

/** Builds a vocabulary of exactly `size` tokens (at least 257). */
export function buildBpeVocabulary(size: number): BpeVocabulary {
  if (size < 257) throw new RangeError("A BPE vocabulary needs at least 257 tokens");
  const byteChars = byteToUnicode();
  const tokens = [...byteChars];
  const known = new Set(tokens);
  const merges: string[] = [];

  // words as the qwen2 pre-tokenizer splits them, byte-mapped, with their counts
  const split =
    /(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;
  const counts = new Map<string, number>();
  for (const match of CORPUS.matchAll(split)) {
    const word = Array.from(new TextEncoder().encode(match[0]), (b) => byteChars[b]!).join(
      "\u0001",
    );
    counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  let words = [...counts].map(([word, count]) => ({ symbols: word.split("\u0001"), count }));

  while (tokens.length < size - 1) {
    const pairs = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let i = 1; i < symbols.length; i++) {
        const pair = `${symbols[i - 1]} ${symbols[i]}`;
        pairs.set(pair, (pairs.get(pair) ?? 0) + count);
      }
    }
    let best: string | undefined;
    for (const [pair, count] of pairs) {
      const bestCount = best === undefined ? -1 : pairs.get(best)!;
      if (count > bestCount || (count === bestCount && pair < best!)) best = pair;
    }
    if (best === undefined) break;
    const [left, right] = best.split(" ") as [string, string];
    const merged = left + right;
    merges.push(best);
    if (!known.has(merged)) {
      known.add(merged);
      tokens.push(merged);
    }
    words = words.map(({ symbols, count }) => {
      const out: string[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i + 1 < symbols.length && symbols[i] === left && symbols[i + 1] === right) {
          out.push(merged);
          i++;
        } else {
          out.push(symbols[i]!);
        }
      }
      return { symbols: out, count };
    });
  }
  const types: number[] = tokens.map(() => TOKEN_TYPE.normal);
  for (let i = 0; tokens.length < size - 1; i++) {
    tokens.push(`<|reserved_${i}|>`);
    types.push(TOKEN_TYPE.unused);
  }
  tokens.push("<|endoftext|>");
  types.push(TOKEN_TYPE.control);
  return { tokens, types, merges, endOfText: tokens.length - 1 };
}
