/**
 * `moebench import`: llama-bench's JSON (or JSONL) output as a moebench results file, so that
 * reports show llama-bench's figures beside moebench's runs (`suites/llama_bench.ts`).
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import { basename, join } from "node:path";
import { importLlamaBench, parseLlamaBench } from "../suites/llama_bench.ts";
import type { ModelRecord } from "../suites/results.ts";
import { writeResults } from "../suites/results.ts";
import { benchModel } from "../suites/task.ts";
import { VERSION } from "../version.ts";
import { profileHere, readMachine } from "./bench.ts";
import { printJson, UsageError } from "./common.ts";

/** Where a row's model file is: as llama-bench wrote it, else in `--models`. */
async function findModel(file: string, dirs: string | undefined): Promise<string> {
  const candidates = [file, ...(dirs ? [join(dirs, basename(file))] : [])];
  for (const candidate of candidates) {
    if (await Deno.stat(candidate).then((s) => s.isFile, () => false)) return candidate;
  }
  throw new UsageError(
    `model file ${file} not found${dirs ? ` (nor in ${dirs})` : ""}: an import hashes each ` +
      "model; give --models DIR where they are",
  );
}

/** The `import` command. */
export function importCommand() {
  return new Command("import")
    .description("llama-bench JSON/JSONL output as a moebench results file, for reports")
    .argument("<file>", "what `llama-bench -o json` (or `-o jsonl`) printed")
    .requiredOption("--out <file>", "results file to write")
    .option("--models <dir>", "where the model files are, if not where llama-bench found them")
    .option("--machine <file>", "the machine profile (`moebench profile --out`); else this one")
    .option("--json", "print what was written as JSON")
    .action(async (file, options) => {
      const text = await Deno.readTextFile(file).catch((error) => {
        throw new UsageError(`Cannot read ${file}: ${error.message}`);
      });
      let rows;
      try {
        rows = parseLlamaBench(text, file);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      const models = new Map<string, ModelRecord & { type: string }>();
      for (const name of new Set(rows.map((row) => row.model_filename))) {
        models.set(name, await benchModel(await findModel(name, options.models), null));
      }
      const machine = options.machine
        ? await readMachine(options.machine)
        : await profileHere([...models.values()][0]!.path, options.json === true);
      const results = importLlamaBench(rows, { machine, models, version: VERSION });
      await writeResults(options.out, results);
      if (options.json) printJson({ out: options.out, records: results.tests.length });
      else console.log(`wrote ${options.out}: ${results.tests.length} llama-bench records`);
    });
}
