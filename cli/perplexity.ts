/**
 * `moebench perplexity`: llama.cpp-compatible chunked perplexity of a text file.
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import { backendOption, loadModel, numericsOption, threadsOption } from "./engine_options.ts";
import { openGGUF } from "../engine/gguf/read.ts";
import { perplexity } from "../engine/perplexity.ts";
import { loadTokenizer } from "../engine/tokenizer/tokenizer.ts";
import { parseWholeNumber, printJson, UsageError } from "./common.ts";

/** The `perplexity` command. */
export function perplexityCommand() {
  return new Command("perplexity")
    .description("perplexity of a text file, computed as llama-perplexity does")
    .requiredOption("--model <file>", "GGUF model")
    .requiredOption("--text <file>", "UTF-8 text file")
    .option("--ctx <n>", "tokens per chunk", parseWholeNumber, 512)
    .option("--chunks <n>", "evaluate at most this many chunks", parseWholeNumber)
    .addOption(backendOption())
    .addOption(threadsOption())
    .addOption(numericsOption())
    .option("--json", "print the result as JSON")
    .action(async (options) => {
      let text: string;
      try {
        text = await Deno.readTextFile(options.text);
      } catch (error) {
        throw new UsageError(
          `Cannot read text file "${options.text}": ${
            error instanceof Error ? error.message : error
          }`,
        );
      }
      if (options.ctx < 4) throw new UsageError("--ctx must be at least 4");
      using gguf = await openGGUF(options.model);
      const tokenizer = loadTokenizer(gguf);
      const tokens = tokenizer.encode(text);
      await using loaded = await loadModel(gguf, options, options.ctx);
      const { model } = loaded;
      const result = await perplexity(model, tokens, {
        ctx: options.ctx,
        bosId: tokenizer.addBos ? tokenizer.bosId : null,
        ...(options.chunks !== undefined ? { maxChunks: options.chunks } : {}),
        ...(options.json ? {} : {
          onChunk: (chunk: number, _chunks: number, running: number) =>
            Deno.stdout.writeSync(new TextEncoder().encode(`[${chunk}]${running.toFixed(4)},`)),
        }),
      });
      if (options.json) {
        printJson({ ...result, tokens: tokens.length, ctx: options.ctx });
        return;
      }
      console.log(
        `\nFinal estimate: PPL = ${result.ppl.toFixed(4)} +/- ${result.stderr.toFixed(5)} ` +
          `(${result.chunks.length} chunks of ${options.ctx}, ${result.count} tokens scored)`,
      );
    });
}
