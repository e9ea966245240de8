/**
 * Tokenizers read from GGUF metadata.
 * @module
 */
export { loadTokenizer, type Tokenizer } from "./tokenizer.ts";
export { type EncodeOptions, SentencePieceTokenizer, SPACE_MARK } from "./spm.ts";
export { TOKEN_TYPE } from "./token_type.ts";
export { BytePairTokenizer, byteToUnicode, SUPPORTED_PRE_TOKENIZERS } from "./bpe.ts";
