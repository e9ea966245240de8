/**
 * `moebench inspect`: what a GGUF model holds.
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import Table from "cli-table3";
import { openGGUF } from "../engine/gguf/read.ts";
import { inspectModel, type ModelSummary } from "../engine/model/inspect.ts";
import { formatBytes, formatPercent } from "../util/format.ts";
import { printJson } from "./common.ts";

/** The `inspect` command. */
export function inspectCommand() {
  return new Command("inspect")
    .description("show a GGUF model's architecture, tokenizer, tensors and expert layout")
    .argument("<model>", "GGUF file")
    .option("--tensors", "list every tensor")
    .option("--json", "print the summary as JSON")
    .action(async (model, options) => {
      using gguf = await openGGUF(model);
      const summary = inspectModel(gguf);
      if (options.json) printJson(summary);
      else console.log(renderSummary(summary, options.tensors === true));
    });
}

/** The summary as text for a terminal. */
export function renderSummary(summary: ModelSummary, listTensors: boolean): string {
  const lines: string[] = [];
  const { file, tokenizer, experts } = summary;
  lines.push(`${file.path}: GGUF v${file.version}, ${formatBytes(file.bytes)}`);
  lines.push(
    `architecture ${summary.architecture}` +
      (summary.name ? `, "${summary.name}"` : "") +
      (summary.fileType ? `, file type ${summary.fileType}` : ""),
  );
  const hyper = Object.entries(summary.hyperparameters).map(([k, v]) => `${k} ${v}`);
  lines.push(`hyperparameters: ${hyper.join(", ")}`);
  lines.push(
    `tokenizer: ${tokenizer.model ?? "none"}` + (tokenizer.pre ? ` (${tokenizer.pre})` : "") +
      `, ${tokenizer.tokens} tokens` + (tokenizer.merges ? `, ${tokenizer.merges} merges` : "") +
      `, bos ${tokenizer.bos ?? "-"}, eos ${tokenizer.eos ?? "-"}`,
  );
  lines.push(`tensors: ${summary.tensorCount}, ${formatBytes(summary.tensorBytes)}`);

  const mix = new Table({
    head: ["type", "tensors", "bytes", "share"],
    style: { head: [], border: [] },
  });
  const byBytes = Object.entries(summary.types).sort((a, b) => b[1].bytes - a[1].bytes);
  for (const [type, share] of byBytes) {
    mix.push([type, share.tensors, formatBytes(share.bytes), formatPercent(share.share)]);
  }
  lines.push(mix.toString());

  if (experts) {
    const perExpert = Object.values(experts.bytesPerExpert);
    const smallest = Math.min(...perExpert);
    const largest = Math.max(...perExpert);
    const size = smallest === largest
      ? formatBytes(smallest)
      : `${formatBytes(smallest)}–${formatBytes(largest)}`;
    lines.push(
      `experts: ${experts.count} per layer in ${experts.layers} layers` +
        (experts.used === null ? "" : `, top-${experts.used}`) +
        `, ${size} each; routed experts ${formatBytes(experts.totalBytes)} ` +
        `(${formatPercent(experts.totalBytes / summary.tensorBytes)}), ` +
        `resident ${formatBytes(experts.residentBytes)}`,
    );
  } else {
    lines.push("experts: none (a dense model)");
  }
  if (summary.activeBytesPerToken !== null) {
    lines.push(`a decode step reads ${formatBytes(summary.activeBytesPerToken)} of weights`);
  }

  if (listTensors) {
    const table = new Table({
      head: ["name", "type", "shape", "offset", "bytes"],
      style: { head: [], border: [] },
    });
    for (const t of summary.tensors) {
      table.push([t.name, t.type, t.shape.join(" × "), t.offset, formatBytes(t.bytes)]);
    }
    lines.push(table.toString());
  }
  return lines.join("\n");
}
