/**
 * Special tokens written in a text, split out before a tokenizer's merges run, as llama.cpp's
 * `tokenizer_st_partition` does. Shared by the SentencePiece and BPE tokenizers.
 * @module
 */
import { TOKEN_TYPE } from "./token_type.ts";

/** A token that is matched as a whole in the text rather than built by merges. */
export interface SpecialToken {
  readonly id: number;
  readonly text: string;
  readonly type: number;
}

/** The vocabulary's tokens of the given types, longest first (empty texts never match). */
export function specialTokens(
  tokens: readonly string[],
  types: readonly number[],
  kinds: readonly number[],
): SpecialToken[] {
  return tokens
    .map((text, id) => ({ id, text, type: types[id]! }))
    .filter(({ type, text }) => text.length > 0 && kinds.includes(type))
    .sort((a, b) => b.text.length - a.text.length);
}

/**
 * Splits `text` at special tokens, longest first: user-defined ones always, the others only
 * with `parseSpecial`. Strings are text to tokenize; numbers are token ids.
 */
export function partitionSpecial(
  text: string,
  specials: readonly SpecialToken[],
  parseSpecial: boolean,
): (string | number)[] {
  let fragments: (string | number)[] = text.length > 0 ? [text] : [];
  for (const special of specials) {
    if (!parseSpecial && special.type !== TOKEN_TYPE.userDefined) continue;
    fragments = fragments.flatMap((fragment) => {
      if (typeof fragment === "number" || !fragment.includes(special.text)) return [fragment];
      const parts = fragment.split(special.text);
      return parts.flatMap((part, i) => {
        const pieces: (string | number)[] = part.length > 0 ? [part] : [];
        return i < parts.length - 1 ? [...pieces, special.id] : pieces;
      });
    });
  }
  return fragments;
}
