/**
 * The error every GGUF problem raises: which file, what is wrong, and where.
 * @module
 */

/**
 * A GGUF file that cannot be read or written. Its message is one line:
 * `Cannot read GGUF file "m.gguf": tensor count 9223372036854775807 exceeds … (at byte 8)`.
 */
export class GGUFError extends Error {
  override name = "GGUFError";
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly position?: number,
    options?: ErrorOptions,
  ) {
    const where = position === undefined ? "" : ` (at byte ${position})`;
    super(`Cannot read GGUF file "${file}": ${problem}${where}`, options);
  }
}
