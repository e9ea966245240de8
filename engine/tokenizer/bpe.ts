/**
 * The byte-level BPE tokenizer of GGUF models with `tokenizer.ggml.model = "gpt2"` (Qwen,
 * OLMoE, DeepSeek, Llama 3…), as llama.cpp runs it: the text is split by the pre-tokenizer
 * regex of `tokenizer.ggml.pre`, each piece's UTF-8 bytes are mapped to GPT-2's printable
 * characters, and the adjacent pair with the lowest merge rank is merged until none is left.
 *
 * @example
 * ```ts
 * import { BytePairTokenizer, byteToUnicode } from "./bpe.ts";
 * const bytes = byteToUnicode();
 * const tokens = [...bytes, "Ġt", "he", "Ġthe"];
 * const tokenizer = new BytePairTokenizer(tokens, ["Ġ t", "h e", "Ġt he"], tokens.map(() => 1), {
 *   pre: "qwen2",
 *   bosId: null,
 *   eosId: null,
 *   addBos: false,
 * });
 * console.log(tokenizer.encode(" the")); // [258]
 * ```
 * @module
 */
import { partitionSpecial, type SpecialToken, specialTokens } from "./_special_tokens.ts";
import { TOKEN_TYPE } from "./token_type.ts";

/** Pre-tokenizer regexes by `tokenizer.ggml.pre`, as llama.cpp's `llama-vocab.cpp` has them. */
const PRE_TOKENIZERS: Readonly<Record<string, RegExp>> = {
  // GPT-2's own
  default: /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)/gu,
  gpt2: /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)/gu,
  // Qwen2/2.5/3: digits one by one
  qwen2:
    /(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu,
  // Llama 3: digits in groups of up to three
  "llama-bpe":
    /(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu,
};

/** The pre-tokenizer names moebench implements. */
export const SUPPORTED_PRE_TOKENIZERS: readonly string[] = Object.keys(PRE_TOKENIZERS);

/**
 * GPT-2's map from bytes to printable characters: printable Latin-1 bytes stand for themselves,
 * the others for U+0100 onwards, so every byte string is a string of visible characters.
 */
export function byteToUnicode(): string[] {
  const printable = (b: number) =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const map: string[] = new Array(256);
  let next = 0;
  for (let b = 0; b < 256; b++) {
    map[b] = String.fromCodePoint(printable(b) ? b : 256 + next++);
  }
  return map;
}

/** Vocabulary settings beyond tokens and merges. */
export interface BpeOptions {
  readonly pre: string;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly addBos: boolean;
}

const utf8 = new TextEncoder();

/** A byte-level BPE vocabulary and its encoder/decoder. */
export class BytePairTokenizer {
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly addBos: boolean;
  readonly #ids = new Map<string, number>();
  readonly #ranks = new Map<string, number>();
  readonly #split: RegExp;
  readonly #byteChars = byteToUnicode();
  readonly #charBytes = new Map(this.#byteChars.map((char, byte) => [char, byte]));
  readonly #specials: SpecialToken[];

  constructor(
    readonly tokens: readonly string[],
    merges: readonly string[],
    readonly types: readonly number[],
    options: BpeOptions,
  ) {
    const split = PRE_TOKENIZERS[options.pre];
    if (!split) {
      throw new RangeError(
        `BPE pre-tokenizer "${options.pre}" is not supported; supported: ` +
          SUPPORTED_PRE_TOKENIZERS.join(", "),
      );
    }
    this.#split = split;
    this.bosId = options.bosId;
    this.eosId = options.eosId;
    this.addBos = options.addBos;
    tokens.forEach((token, id) => {
      if (!this.#ids.has(token)) this.#ids.set(token, id);
    });
    merges.forEach((merge, rank) => this.#ranks.set(merge, rank));
    this.#specials = specialTokens(tokens, types, [TOKEN_TYPE.control, TOKEN_TYPE.userDefined]);
  }

  /** Token ids of `text`. */
  encode(text: string, options: { addBos?: boolean; parseSpecial?: boolean } = {}): number[] {
    const output: number[] = [];
    if ((options.addBos ?? this.addBos) && this.bosId !== null) output.push(this.bosId);
    for (const fragment of partitionSpecial(text, this.#specials, options.parseSpecial ?? false)) {
      if (typeof fragment === "number") {
        output.push(fragment);
        continue;
      }
      for (const match of fragment.matchAll(this.#split)) {
        const word = Array.from(utf8.encode(match[0]), (byte) => this.#byteChars[byte]!).join("");
        this.#encodeWord(word, output);
      }
    }
    return output;
  }

  /** The text of `ids` (control and unused tokens render as nothing, as in llama.cpp). */
  decode(ids: readonly number[]): string {
    return new TextDecoder().decode(this.decodeBytes(ids));
  }

  /** The UTF-8 bytes of `ids`. */
  decodeBytes(ids: readonly number[]): Uint8Array {
    const bytes: number[] = [];
    for (const id of ids) {
      const type = this.types[id];
      if (type !== TOKEN_TYPE.normal && type !== TOKEN_TYPE.userDefined) continue;
      const text = this.tokens[id]!;
      if (type === TOKEN_TYPE.userDefined) {
        bytes.push(...utf8.encode(text));
        continue;
      }
      for (const char of text) {
        const byte = this.#charBytes.get(char);
        if (byte !== undefined) bytes.push(byte);
        else bytes.push(...utf8.encode(char));
      }
    }
    return Uint8Array.from(bytes);
  }

  /** llama.cpp's `llm_tokenizer_bpe_session` on one pre-token (already byte-mapped). */
  #encodeWord(word: string, output: number[]): void {
    const symbols = Array.from(word);
    const prev = symbols.map((_, i) => i - 1);
    const next = symbols.map((_, i) => (i + 1 < symbols.length ? i + 1 : -1));
    // lowest rank first, then leftmost
    const queue: { left: number; right: number; text: string; rank: number }[] = [];
    const add = (left: number, right: number) => {
      if (left === -1 || right === -1) return;
      const rank = this.#ranks.get(`${symbols[left]} ${symbols[right]}`);
      if (rank === undefined) return;
      queue.push({ left, right, text: symbols[left]! + symbols[right]!, rank });
    };
    for (let i = 1; i < symbols.length; i++) add(i - 1, i);
    while (queue.length > 0) {
      let best = 0;
      for (let i = 1; i < queue.length; i++) {
        const a = queue[i]!;
        const b = queue[best]!;
        if (a.rank < b.rank || (a.rank === b.rank && a.left < b.left)) best = i;
      }
      const { left, right, text } = queue.splice(best, 1)[0]!;
      // skip pairs that merges since have changed
      if (symbols[left] === "" || symbols[right] === "") continue;
      if (symbols[left]! + symbols[right]! !== text) continue;
      symbols[left] = text;
      symbols[right] = "";
      next[left] = next[right]!;
      if (next[right]! >= 0) prev[next[right]!] = left;
      add(prev[left]!, left);
      add(left, next[left]!);
    }
    for (let i = 0; i !== -1 && symbols.length > 0; i = next[i]!) {
      const id = this.#ids.get(symbols[i]!);
      if (id !== undefined) {
        output.push(id);
        continue;
      }
      // llama.cpp looks single bytes of the mapped text up; only ASCII ones can be tokens
      for (const byte of utf8.encode(symbols[i]!)) {
        const byteId = this.#ids.get(String.fromCharCode(byte));
        if (byteId !== undefined && byte < 0x80) output.push(byteId);
      }
    }
  }
}
