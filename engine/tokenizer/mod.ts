/**
 * Tokenizers read from GGUF metadata.
 * @module
 */
export { type EncodeOptions, SentencePieceTokenizer, TOKEN_TYPE } from "./spm.ts";
