/**
 * The names of the tokens suite's tests, llama-bench's own: `pp512` (a 512-token prompt),
 * `tg128` (128 tokens generated one by one), `pp512+tg128` (both in one go, llama-bench's `-pg`),
 * each followed by `@d4096` when it ran after 4096 tokens already in the context (its `-d`).
 * Suites name records with `tokensTestName`; reports and the llama-bench converters read them
 * back with `parseTokensTestName`, so the two can never disagree.
 *
 * @example
 * ```ts
 * import { parseTokensTestName, tokensTestName } from "./test_names.ts";
 * console.log(tokensTestName({ prompt: 512, gen: 128, depth: 4096 })); // "pp512+tg128@d4096"
 * console.log(parseTokensTestName("tg64")); // { prompt: 0, gen: 64, depth: 0 }
 * ```
 * @module
 */

/** What a tokens test measures. */
export interface TokensTest {
  /** Prompt tokens prefilled in one batch (0: none). */
  readonly prompt: number;
  /** Tokens generated one at a time (0: none). */
  readonly gen: number;
  /** Tokens already in the context before it. */
  readonly depth: number;
}

/** The test's name (`pp512`, `tg128`, `pp512+tg128`, then `@d<depth>` past 0). */
export function tokensTestName({ prompt, gen, depth }: TokensTest): string {
  const parts = [...(prompt > 0 ? [`pp${prompt}`] : []), ...(gen > 0 ? [`tg${gen}`] : [])];
  return `${parts.join("+")}${depth > 0 ? `@d${depth}` : ""}`;
}

/** What a test name says it measured, or null for a name that is not a tokens test's. */
export function parseTokensTestName(name: string): TokensTest | null {
  const match = /^(?:pp(\d+))?(\+)?(?:tg(\d+))?(?:@d(\d+))?$/.exec(name);
  if (!match || (match[1] === undefined && match[3] === undefined)) return null;
  // a "+" joins both halves and only they
  if ((match[2] !== undefined) !== (match[1] !== undefined && match[3] !== undefined)) return null;
  return {
    prompt: Number(match[1] ?? 0),
    gen: Number(match[3] ?? 0),
    depth: Number(match[4] ?? 0),
  };
}
