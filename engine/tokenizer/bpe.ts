/**
 * The byte-level BPE tokenizer of GGUF models with `tokenizer.ggml.model = "gpt2"` (Qwen,
 * OLMoE, DeepSeek, Llama 3…), as llama.cpp runs it: the text is split by the pre-tokenizer
 * regexes of `tokenizer.ggml.pre`, each piece's UTF-8 bytes are mapped to GPT-2's printable
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

/**
 * Whitespace as llama.cpp's pre-tokenizers see it: ASCII's, plus the codepoints its Unicode
 * table flags as whitespace (U+0085 among them, U+FEFF not, unlike JavaScript's `\s`).
 */
const SPACE = "\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

/** A regex from llama.cpp's source text, `\s` and `\S` meaning its whitespace. */
function llamaRegex(source: string): RegExp {
  const expanded = source
    .replace(/\[((?:\\.|[^\]\\])*)\]/g, (cls) => cls.replaceAll("\\s", SPACE))
    .replaceAll("\\S", `[^${SPACE}]`)
    .replaceAll("\\s", `[${SPACE}]`);
  return new RegExp(expanded, "gu");
}

const GPT2 = String
  .raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)`;
const CONTRACTIONS = String.raw`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])`;
const LLAMA3 = String
  .raw`${CONTRACTIONS}|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
const QWEN2 = String
  .raw`${CONTRACTIONS}|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
/** DeepSeek's CJK ideographs and Hangul (the ranges as llama.cpp writes them). */
const CJK = "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+";

/**
 * A pre-tokenizer as llama.cpp's `llm_tokenizer_bpe` has it: regexes applied in turn, each
 * splitting every piece so far into its matches and the text between them; `ignoreMerges`: a
 * piece that is a token as a whole is taken as is.
 */
interface PreTokenizer {
  readonly regexes: readonly RegExp[];
  readonly ignoreMerges: boolean;
}

const pre = (sources: readonly string[], ignoreMerges = false): PreTokenizer => ({
  regexes: sources.map(llamaRegex),
  ignoreMerges,
});

/** llama.cpp's pre-tokenizers, by the names `tokenizer.ggml.pre` gives them (llama-vocab.cpp). */
const PRE_TOKENIZER_GROUPS: readonly [readonly string[], PreTokenizer][] = [
  [
    ["default"],
    pre([String.raw`[\p{P}\$\+<=>\^~\|]+`, GPT2, String.raw`\p{N}+`, "[0-9][0-9][0-9]"]),
  ],
  [["gpt-2", "phi-2", "olmo", "mpt", "jais"], pre([GPT2])],
  [["llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral"], pre([LLAMA3], true)],
  [["dbrx", "smaug-bpe", "chatglm-bpe", "glm4"], pre([LLAMA3])],
  [["qwen2", "deepseek-r1-qwen", "stablelm2", "hunyuan"], pre([QWEN2])],
  [
    ["starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"],
    pre([
      String.raw`\p{N}`,
      GPT2,
    ]),
  ],
  [
    ["deepseek-llm"],
    pre([
      "[\r\n]",
      "\\s?[A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293\u0295-\u02af\u0370-\u0373\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1\u03a3-\u03f5\u03f7-\u0481\u048a-\u052f\u0531-\u0556\u10a0-\u10c5\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba\u1cbd-\u1cbf\u1d00-\u1d2b\u1d6b-\u1d77\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d\u1f50-\u1f57\u1f59\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4\u1fc6-\u1fcc\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc\u2102\u2107\u210a-\u2113\u2115\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d\u212f-\u2134\u2139\u213c-\u213f\u2145-\u2149\u214e\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee\u2cf2\u2cf3\ua640-\ua66d\ua680-\ua69b\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e\uab70-\uabbf\ufb00-\ufb06\ufb13-\ufb17\uff21-\uff3a\uff41-\uff5a\u{10400}-\u{1044f}\u{104b0}-\u{104d3}\u{104d8}-\u{104fb}\u{10c80}-\u{10cb2}\u{10cc0}-\u{10cf2}\u{118a0}-\u{118df}\u{1e900}-\u{1e943}]+",
      "\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+",
      "\\s+$",
      CJK,
      "\\p{N}+",
    ]),
  ],
  [["deepseek-coder"], pre(["[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", CJK, "\\p{N}"])],
  [
    ["deepseek-v3"],
    pre([
      "\\p{N}{1,3}",
      "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+",
      "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
    ]),
  ],
];

const PRE_TOKENIZERS: ReadonlyMap<string, PreTokenizer> = new Map(
  PRE_TOKENIZER_GROUPS.flatMap(([names, tokenizer]) => names.map((name) => [name, tokenizer])),
);

/** The pre-tokenizer names moebench implements. */
export const SUPPORTED_PRE_TOKENIZERS: readonly string[] = [...PRE_TOKENIZERS.keys()];

/** `text` split as llama.cpp's `unicode_regex_split` splits it: by each regex in turn. */
function preTokenize(text: string, regexes: readonly RegExp[]): string[] {
  let pieces = [text];
  for (const regex of regexes) {
    const next: string[] = [];
    for (const piece of pieces) {
      let end = 0;
      for (const match of piece.matchAll(regex)) {
        if (match.index > end) next.push(piece.slice(end, match.index));
        next.push(match[0]);
        end = match.index + match[0].length;
      }
      if (end < piece.length) next.push(piece.slice(end));
    }
    pieces = next;
  }
  return pieces;
}

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
  readonly #pre: PreTokenizer;
  readonly #byteChars = byteToUnicode();
  readonly #charBytes = new Map(this.#byteChars.map((char, byte) => [char, byte]));
  readonly #specials: SpecialToken[];

  constructor(
    readonly tokens: readonly string[],
    merges: readonly string[],
    readonly types: readonly number[],
    options: BpeOptions,
  ) {
    const split = PRE_TOKENIZERS.get(options.pre);
    if (!split) {
      throw new RangeError(
        `BPE pre-tokenizer "${options.pre}" is not supported; supported: ` +
          SUPPORTED_PRE_TOKENIZERS.join(", "),
      );
    }
    this.#pre = split;
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
      for (const piece of preTokenize(fragment, this.#pre.regexes)) {
        const word = Array.from(utf8.encode(piece), (byte) => this.#byteChars[byte]!).join("");
        const whole = this.#pre.ignoreMerges ? this.#ids.get(word) : undefined;
        if (whole !== undefined) output.push(whole);
        else this.#encodeWord(word, output);
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
