/**
 * GGUF files: read (header, metadata, tensor index, tensor bytes on demand) and write.
 * @module
 */
export * from "./types.ts";
export { GGUFError } from "./errors.ts";
export { GGUFFile, openGGUF, parseGGUF } from "./read.ts";
export { type GGUFContents, type TensorToWrite, writeGGUF, type WriteOptions } from "./write.ts";
export { type ByteSource, fileSource, memorySource } from "./source.ts";
export { FILE_TYPES, fileTypeId, type FileTypeName, fileTypeName } from "./file_type.ts";
