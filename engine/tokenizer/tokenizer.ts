/**
 * The tokenizer a GGUF model names: SentencePiece for `llama`, byte-level BPE for `gpt2`.
 *
 * @example
 * ```ts
 * import { loadTokenizer } from "./tokenizer.ts";
 * import { openGGUF } from "../gguf/read.ts";
 * import { synthesize } from "../synth/synth.ts";
 * const out = await Deno.makeTempFile({ suffix: ".gguf" });
 * await synthesize({ preset: "tiny-qwen2moe", out, tokenizer: "bpe" });
 * using gguf = await openGGUF(out);
 * const tokenizer = loadTokenizer(gguf);
 * console.log(tokenizer.decode(tokenizer.encode("the router"))); // the router
 * ```
 * @module
 */
import { GGUFError } from "../gguf/errors.ts";
import type { GGUFFile } from "../gguf/read.ts";
import { BytePairTokenizer } from "./bpe.ts";
import { SentencePieceTokenizer } from "./spm.ts";
import { TOKEN_TYPE } from "./token_type.ts";

/** What the engine needs of a tokenizer. */
export interface Tokenizer {
  readonly bosId: number | null;
  readonly eosId: number | null;
  /** Whether prompts start with BOS (`tokenizer.ggml.add_bos_token`). */
  readonly addBos: boolean;
  encode(text: string, options?: { addBos?: boolean; parseSpecial?: boolean }): number[];
  decode(ids: readonly number[]): string;
  /** UTF-8 bytes of `ids`, for streaming output that must not split a character. */
  decodeBytes(ids: readonly number[]): Uint8Array;
}

/**
 * The tokenizer of a GGUF model.
 * @throws {GGUFError} for tokenizer kinds moebench does not implement, or malformed ones.
 */
export function loadTokenizer(gguf: GGUFFile): Tokenizer {
  const model = gguf.getString("tokenizer.ggml.model");
  if (model === "llama") return SentencePieceTokenizer.fromGGUF(gguf);
  if (model !== "gpt2") {
    throw new GGUFError(gguf.path, `tokenizer "${model}" is not supported (llama, gpt2)`);
  }
  const tokens = gguf.getStrings("tokenizer.ggml.tokens");
  const types = gguf.has("tokenizer.ggml.token_type")
    ? gguf.getNumbers("tokenizer.ggml.token_type")
    : tokens.map(() => TOKEN_TYPE.normal);
  const optionalId = (key: string) => (gguf.has(key) ? gguf.getNumber(key) : null);
  const addBos = gguf.metadata.get("tokenizer.ggml.add_bos_token");
  try {
    return new BytePairTokenizer(tokens, gguf.getStrings("tokenizer.ggml.merges"), types, {
      pre: gguf.has("tokenizer.ggml.pre") ? gguf.getString("tokenizer.ggml.pre") : "default",
      bosId: optionalId("tokenizer.ggml.bos_token_id"),
      eosId: optionalId("tokenizer.ggml.eos_token_id"),
      addBos: addBos?.type === "bool" ? addBos.value : false,
    });
  } catch (error) {
    if (error instanceof RangeError) throw new GGUFError(gguf.path, error.message);
    throw error;
  }
}
