/**
 * llama.cpp as a peer (benchmarks) and an oracle (tests), through node-llama-cpp.
 * @module
 */
export * from "./llama_cpp.ts";
export { type Ggml, loadGgml } from "./ggml.ts";
