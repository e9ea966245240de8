/**
 * A deterministic SentencePiece vocabulary (`tokenizer.ggml.model = "llama"`) of any size:
 * `<unk>`, `<s>`, `</s>`, the 256 byte-fallback tokens `<0x00>`…`<0xFF>`, printable ASCII
 * characters, common English words, then letter strings of growing length.
 *
 * SentencePiece in llama.cpp merges adjacent pieces only into pieces that are in the vocabulary,
 * so every multi-character piece here has its one-shorter prefix in the vocabulary too: any word
 * built from listed pieces can be reached by merges.
 * @module
 */
import { SPACE_MARK } from "../tokenizer/spm.ts";
import { TOKEN_TYPE } from "../tokenizer/token_type.ts";

/** A vocabulary as GGUF stores it. */
export interface Vocabulary {
  readonly tokens: readonly string[];
  readonly scores: readonly number[];
  readonly types: readonly number[];
  readonly unknownId: number;
  readonly bosId: number;
  readonly eosId: number;
}

export const COMMON_WORDS: readonly string[] = (
  "the of and to in is it that for was on are as with his they at be this from have or by one " +
  "had not but what all were when we there can an your which their said if do will each about " +
  "how up out them then she many some so these would other into has more her two like him see " +
  "time could no make than first been its who now people my made over did down only way find use " +
  "may water long little very after words called just where most know get through back much go " +
  "good new write our me man too any day same right look think also around another came come " +
  "work three word must because does part even place well such here take why things help put " +
  "years different away again off went old number great tell men say small every found still " +
  "between name should home big give air line set own under read last never us left end along " +
  "while might next sound below saw something thought both few those always looked show large " +
  "often together asked house world going want school important until form food keep children " +
  "feet land side without boy once animals life enough took sometimes four head above kind began " +
  "almost live page got earth need far hand high year mother light parts country father let " +
  "night following picture being study second eyes soon times story boys since white days ever " +
  "paper hard near sentence better best across during today others however sure means knew its " +
  "try told young model expert experts memory token tokens cache layer layers router compute " +
  "function return const let var if else for while class def import from print true false null"
).split(" ");

/**
 * Builds a vocabulary of exactly `size` tokens (at least 259 + the printable ASCII set).
 * @throws {RangeError} when `size` is too small to hold the special and byte tokens.
 */
export function buildVocabulary(size: number): Vocabulary {
  const tokens: string[] = ["<unk>", "<s>", "</s>"];
  const types: number[] = [TOKEN_TYPE.unknown, TOKEN_TYPE.control, TOKEN_TYPE.control];
  for (let byte = 0; byte < 256; byte++) {
    tokens.push(`<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(TOKEN_TYPE.byte);
  }
  const minimum = tokens.length + 95 + 1;
  if (size < minimum) throw new RangeError(`A vocabulary needs at least ${minimum} tokens`);

  const seen = new Set<string>();
  const add = (piece: string) => {
    if (tokens.length >= size || seen.has(piece)) return;
    seen.add(piece);
    tokens.push(piece);
    types.push(TOKEN_TYPE.normal);
  };
  add(SPACE_MARK);
  for (let code = 0x21; code < 0x7f; code++) add(String.fromCharCode(code));
  const letters = "abcdefghijklmnopqrstuvwxyz";
  for (const letter of letters) add(SPACE_MARK + letter);
  for (const word of COMMON_WORDS) {
    for (let end = 2; end <= word.length; end++) {
      add(word.slice(0, end));
      add(SPACE_MARK + word.slice(0, end));
    }
  }
  // filler: all letter strings of length 2, 3, … (each with and without the space mark)
  let frontier = [...letters];
  while (tokens.length < size) {
    const next: string[] = [];
    for (const stem of frontier) {
      for (const letter of letters) {
        next.push(stem + letter);
        add(stem + letter);
        add(SPACE_MARK + stem + letter);
        if (tokens.length >= size) break;
      }
      if (tokens.length >= size) break;
    }
    frontier = next;
  }
  // earlier pieces merge first, as higher-probability pieces do in a trained model
  const scores = tokens.map((_, id) => (types[id] === TOKEN_TYPE.normal ? -id : 0));
  return { tokens, scores, types, unknownId: 0, bosId: 1, eosId: 2 };
}
