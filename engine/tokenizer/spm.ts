/**
 * The SentencePiece tokenizer of GGUF models with `tokenizer.ggml.model = "llama"`, as llama.cpp
 * runs it: spaces become "▁", the text is split into UTF-8 characters, and the adjacent pair
 * whose concatenation is the highest-scoring vocabulary piece is merged until no pair is a
 * piece; pieces that never formed a token fall back to byte tokens `<0xNN>`.
 *
 * @example
 * ```ts
 * import { SentencePieceTokenizer } from "./spm.ts";
 * import { openGGUF } from "../gguf/read.ts";
 * import { synthesize } from "../synth/synth.ts";
 * const out = await Deno.makeTempFile({ suffix: ".gguf" });
 * await synthesize({ preset: "tiny-mixtral", out });
 * using gguf = await openGGUF(out);
 * const tokenizer = SentencePieceTokenizer.fromGGUF(gguf);
 * const ids = tokenizer.encode("the router", { addBos: true });
 * console.log(tokenizer.decode(ids)); // " the router" (the BOS renders as nothing)
 * ```
 * @module
 */
import type { GGUFFile } from "../gguf/read.ts";
import { GGUFError } from "../gguf/errors.ts";
import { partitionSpecial, type SpecialToken, specialTokens } from "./_special_tokens.ts";
import { TOKEN_TYPE } from "./token_type.ts";

/** How to encode. */
export interface EncodeOptions {
  /** Prepend the BOS token (default: the model's `add_bos_token`). */
  readonly addBos?: boolean;
  /** Recognise control tokens such as `<s>` written in the text (default false). */
  readonly parseSpecial?: boolean;
}

/** SentencePiece's word-boundary marker (U+2581), which stands for a space. */
export const SPACE_MARK = "\u2581";
const utf8 = new TextEncoder();

/** A SentencePiece vocabulary and its encoder/decoder. */
export class SentencePieceTokenizer {
  readonly #ids = new Map<string, number>();
  readonly #byteIds: number[] = [];
  /** Every token's text as UTF-8, back to back; token i is bytes [#pieceStart[i], #pieceStart[i+1]). */
  readonly #pieceBytes: Uint8Array;
  readonly #pieceStart: Uint32Array;
  /** Special tokens, longest first, split out of the text before merging. */
  readonly #specials: SpecialToken[];

  constructor(
    readonly tokens: readonly string[],
    readonly scores: readonly number[],
    readonly types: readonly number[],
    readonly bosId: number | null,
    readonly eosId: number | null,
    readonly addBos: boolean,
    readonly addSpacePrefix: boolean,
  ) {
    tokens.forEach((token, id) => {
      if (!this.#ids.has(token)) this.#ids.set(token, id);
      const byte = /^<0x([0-9A-Fa-f]{2})>$/.exec(token);
      if (byte && types[id] === TOKEN_TYPE.byte) this.#byteIds[parseInt(byte[1]!, 16)] = id;
    });
    // one buffer for all pieces, encoded in place: a vocabulary of 150k tokens as separate
    // arrays costs ~100 MB of memory
    this.#pieceStart = new Uint32Array(tokens.length + 1);
    const buffer = new Uint8Array(tokens.reduce((sum, token) => sum + 3 * token.length, 0));
    let end = 0;
    tokens.forEach((token, id) => {
      if (types[id] === TOKEN_TYPE.byte) {
        buffer[end++] = parseInt(token.slice(3, 5), 16);
      } else if (types[id] === TOKEN_TYPE.normal || types[id] === TOKEN_TYPE.userDefined) {
        // control, unknown and unused tokens render as nothing, as in llama.cpp
        end += utf8.encodeInto(token.replaceAll(SPACE_MARK, " "), buffer.subarray(end)).written;
      }
      this.#pieceStart[id + 1] = end;
    });
    this.#pieceBytes = buffer.slice(0, end);
    this.#specials = specialTokens(tokens, types, [
      TOKEN_TYPE.control,
      TOKEN_TYPE.userDefined,
      TOKEN_TYPE.unknown,
    ]);
  }

  /**
   * The tokenizer of a GGUF model.
   * @throws {GGUFError} when the model's tokenizer is not SentencePiece or its vocabulary is malformed.
   */
  static fromGGUF(gguf: GGUFFile): SentencePieceTokenizer {
    const model = gguf.getString("tokenizer.ggml.model");
    if (model !== "llama") {
      throw new GGUFError(gguf.path, `tokenizer "${model}" is not SentencePiece ("llama")`);
    }
    const tokens = gguf.getStrings("tokenizer.ggml.tokens");
    const scores = gguf.has("tokenizer.ggml.scores")
      ? gguf.getNumbers("tokenizer.ggml.scores")
      : tokens.map(() => 0);
    const types = gguf.has("tokenizer.ggml.token_type")
      ? gguf.getNumbers("tokenizer.ggml.token_type")
      : tokens.map(() => TOKEN_TYPE.normal);
    if (scores.length !== tokens.length || types.length !== tokens.length) {
      throw new GGUFError(gguf.path, "tokenizer scores or token types do not match the tokens");
    }
    const optionalId = (key: string) => (gguf.has(key) ? gguf.getNumber(key) : null);
    const flag = (key: string, fallback: boolean) => {
      const value = gguf.metadata.get(key);
      return value?.type === "bool" ? value.value : fallback;
    };
    return new SentencePieceTokenizer(
      tokens,
      scores,
      types,
      optionalId("tokenizer.ggml.bos_token_id"),
      optionalId("tokenizer.ggml.eos_token_id"),
      flag("tokenizer.ggml.add_bos_token", true),
      flag("tokenizer.ggml.add_space_prefix", true),
    );
  }

  /** Token ids of `text`. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const output: number[] = [];
    if ((options.addBos ?? this.addBos) && this.bosId !== null) output.push(this.bosId);
    let previousWasSpecial = true; // the first fragment gets the space prefix
    for (const fragment of partitionSpecial(text, this.#specials, options.parseSpecial ?? false)) {
      if (typeof fragment === "number") {
        output.push(fragment);
        previousWasSpecial = true;
        continue;
      }
      const prefixed = (this.addSpacePrefix && previousWasSpecial ? " " : "") + fragment;
      this.#encodeFragment(prefixed.replaceAll(" ", SPACE_MARK), output);
      previousWasSpecial = false;
    }
    return output;
  }

  /** The text of `ids` (control tokens render as nothing, byte tokens as their bytes). */
  decode(ids: readonly number[]): string {
    return new TextDecoder().decode(this.decodeBytes(ids));
  }

  /** The UTF-8 bytes of `ids`, for streaming output that must not split a character. */
  decodeBytes(ids: readonly number[]): Uint8Array {
    const pieces = ids.map((id) =>
      id >= 0 && id < this.tokens.length
        ? this.#pieceBytes.subarray(this.#pieceStart[id]!, this.#pieceStart[id + 1]!)
        : new Uint8Array()
    );
    const bytes = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
    let at = 0;
    for (const piece of pieces) {
      bytes.set(piece, at);
      at += piece.length;
    }
    return bytes;
  }

  /**
   * llama.cpp's `llm_tokenizer_spm_session::tokenize` on one fragment. Symbols are characters
   * (code points: the text is valid UTF-8, so they are llama.cpp's UTF-8 sequences), linked in
   * a list that merges shrink.
   */
  #encodeFragment(fragment: string, output: number[]): void {
    const symbols = Array.from(fragment);
    if (symbols.length === 0) return;
    const prev = symbols.map((_, i) => i - 1);
    const next = symbols.map((_, i) => (i + 1 < symbols.length ? i + 1 : -1));
    const queue = new BigramQueue();
    const tryAdd = (left: number, right: number) => {
      if (left === -1 || right === -1) return;
      const merged = symbols[left]! + symbols[right]!;
      const id = this.#ids.get(merged);
      if (id === undefined) return;
      queue.push({ left, right, score: this.scores[id]!, size: merged.length });
    };

    for (let i = 1; i < symbols.length; i++) tryAdd(i - 1, i);
    // merge the best pair while any adjacent pair forms a piece
    for (let bigram = queue.pop(); bigram; bigram = queue.pop()) {
      const { left, right } = bigram;
      const leftText = symbols[left]!;
      const rightText = symbols[right]!;
      // skip pairs whose symbols were merged since
      if (
        leftText === "" || rightText === "" || leftText.length + rightText.length !== bigram.size
      ) {
        continue;
      }
      symbols[left] = leftText + rightText;
      symbols[right] = "";
      next[left] = next[right]!;
      if (next[right]! >= 0) prev[next[right]!] = left;
      tryAdd(prev[left]!, left);
      tryAdd(left, next[left]!);
    }

    // a merged symbol is a piece by construction; an unmerged character that is not one
    // becomes its UTF-8 bytes as byte tokens (llama.cpp's resegment)
    const resegment = (piece: string) => {
      const id = this.#ids.get(piece);
      if (id !== undefined) {
        output.push(id);
        return;
      }
      for (const byte of utf8.encode(piece)) {
        const byteId = this.#byteIds[byte];
        if (byteId !== undefined) output.push(byteId);
      }
    };
    for (let i = 0; i !== -1; i = next[i]!) resegment(symbols[i]!);
  }
}

interface Bigram {
  readonly left: number;
  readonly right: number;
  readonly score: number;
  readonly size: number;
}

/** A max-heap of bigrams: highest score first, then the leftmost (llama.cpp's comparator). */
class BigramQueue {
  readonly #heap: Bigram[] = [];

  push(item: Bigram): void {
    const heap = this.#heap;
    heap.push(item);
    for (let i = heap.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  pop(): Bigram | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      for (let i = 0;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let best = i;
        if (left < heap.length && before(heap[left]!, heap[best]!)) best = left;
        if (right < heap.length && before(heap[right]!, heap[best]!)) best = right;
        if (best === i) break;
        [heap[i], heap[best]] = [heap[best]!, heap[i]!];
        i = best;
      }
    }
    return top;
  }
}

function before(a: Bigram, b: Bigram): boolean {
  return a.score > b.score || (a.score === b.score && a.left < b.left);
}
