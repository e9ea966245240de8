/**
 * The error raised where llama.cpp cannot be used. Kept apart from the code that imports
 * node-llama-cpp, so that the CLI can recognise it without pulling that package in.
 * @module
 */

/** llama.cpp cannot be used here; `message` says why. */
export class LlamaCppUnavailable extends Error {
  override name = "LlamaCppUnavailable";
}
