/**
 * `moebench eval`: teacher-forced top-k logits after each input token.
 * @module
 */
import { Command, InvalidArgumentError } from "@commander-js/extra-typings";
import {
  backendOption,
  gpuExpertsOption,
  loadModel,
  numericsOption,
  placementTraceOption,
  threadsOption,
} from "./engine_options.ts";
import { openGGUF } from "../engine/gguf/read.ts";
import { evaluateTokens } from "../engine/model/evaluate.ts";
import { parseWholeNumber, printJson } from "./common.ts";

/** Parses `1,2,3` into token ids. */
export function parseTokenList(value: string): number[] {
  const ids = value.split(",").map((part) => part.trim());
  if (ids.length === 0 || ids.some((id) => !/^\d+$/.test(id))) {
    throw new InvalidArgumentError(`"${value}" is not a comma-separated list of token ids.`);
  }
  return ids.map(Number);
}

/** The `eval` command. */
export function evalCommand() {
  return new Command("eval")
    .description("teacher-forced evaluation: the top logits after each input token")
    .requiredOption("--model <file>", "GGUF model")
    .requiredOption("--tokens <ids>", "input token ids, e.g. 1,415,2392", parseTokenList)
    .option("--top <k>", "logits to show per position", parseWholeNumber, 5)
    .addOption(backendOption())
    .addOption(threadsOption())
    .addOption(numericsOption())
    .addOption(gpuExpertsOption())
    .addOption(placementTraceOption())
    .option("--json", 'print {"top":[[[id,logit],…],…]}')
    .action(async (options) => {
      using gguf = await openGGUF(options.model);
      await using loaded = await loadModel(gguf, options, options.tokens.length);
      const { model } = loaded;
      const top = await evaluateTokens(model, options.tokens, options.top);
      if (options.json) {
        printJson({ top });
        return;
      }
      for (const [pos, scored] of top.entries()) {
        const list = scored.map(([id, logit]) => `${id} (${logit.toFixed(3)})`).join("  ");
        console.log(`${String(pos).padStart(4)}  after ${options.tokens[pos]}:  ${list}`);
      }
    });
}
