/**
 * `moebench synth`: write a deterministic random-weight MoE model.
 * @module
 */
import { Command, Option } from "@commander-js/extra-typings";
import { PRESETS, SYNTH_TYPES, synthesize } from "../engine/synth/mod.ts";
import { SUPPORTED_PRE_TOKENIZERS } from "../engine/tokenizer/mod.ts";
import { formatBytes } from "../util/format.ts";
import { byteProgress, progressEnabled } from "../util/progress.ts";
import { parseDecimal, parseWholeNumber, printJson } from "./common.ts";

/** The `synth` command. */
export function synthCommand() {
  return new Command("synth")
    .description("write a deterministic random-weight MoE model (GGUF) of a preset's shape")
    .addOption(
      new Option("--preset <name>", "model shape").choices(PRESETS.map((p) => p.name))
        .makeOptionMandatory(),
    )
    .requiredOption("--out <file>", "output GGUF file")
    .addOption(
      new Option("--type <type>", "type of the weight matrices").choices(SYNTH_TYPES)
        .default("F16"),
    )
    .option("--seed <n>", "random seed (same seed → byte-identical file)", parseWholeNumber, 0)
    .option("--scale <factor>", "shrink widths by this factor in (0, 1]", parseDecimal)
    .option("--layers <n>", "number of layers to keep", parseWholeNumber)
    .addOption(
      new Option("--tokenizer <kind>", "spm: SentencePiece; bpe: byte-level BPE")
        .choices(["spm", "bpe"] as const).default("spm" as const),
    )
    .addOption(
      new Option("--pre <name>", "the BPE vocabulary's pre-tokenizer (tokenizer.ggml.pre)")
        .choices(SUPPORTED_PRE_TOKENIZERS).default("qwen2"),
    )
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      `\nPresets:\n${PRESETS.map((p) => `  ${p.name.padEnd(24)} ${p.description}`).join("\n")}`,
    )
    .action(async (options) => {
      const progress = byteProgress("synth", progressEnabled(options.json === true));
      const result = await synthesize({
        preset: options.preset,
        out: options.out,
        type: options.type,
        seed: options.seed,
        tokenizer: options.tokenizer,
        pre: options.pre,
        ...(options.scale !== undefined ? { scale: options.scale } : {}),
        ...(options.layers !== undefined ? { layers: options.layers } : {}),
        onProgress: (done, total) => progress.update(done, total),
      });
      progress.stop();
      if (options.json) {
        printJson(result);
        return;
      }
      const s = result.shape;
      console.log(
        `wrote ${result.path}: ${options.preset} (${s.architecture}, ${s.blockCount} layers, ` +
          `d ${s.embeddingLength}, ${s.expertCount} experts of ${s.expertFeedForwardLength}, ` +
          `top-${s.expertUsedCount}), ${result.type}, seed ${result.seed}, ` +
          `${formatBytes(result.bytes)}`,
      );
    });
}
