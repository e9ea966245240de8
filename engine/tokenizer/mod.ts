/**
 * Tokenizers read from GGUF metadata.
 * @module
 */
export { loadTokenizer, type Tokenizer } from "./tokenizer.ts";
export { type EncodeOptions, SentencePieceTokenizer, TOKEN_TYPE } from "./spm.ts";
export { BytePairTokenizer, byteToUnicode, SUPPORTED_PRE_TOKENIZERS } from "./bpe.ts";
