/**
 * The moebench command line. It only parses arguments, calls the library (the same functions
 * the tests call) and prints; see `mod.ts` for the library.
 * @module
 */
import { Command, CommanderError } from "@commander-js/extra-typings";
import { EXIT_USAGE, reportError } from "./cli/common.ts";
import { benchCommand } from "./cli/bench.ts";
import { reportCommand } from "./cli/report.ts";
import { importCommand } from "./cli/import.ts";
import { compressCommand } from "./cli/compress.ts";
import { publishCommand, serveCommand } from "./cli/publish.ts";
import { demoCommand } from "./cli/demo.ts";
import { evalCommand } from "./cli/eval.ts";
import { generateCommand } from "./cli/generate.ts";
import { perplexityCommand } from "./cli/perplexity.ts";
import { profileCommand } from "./cli/profile.ts";
import { inspectCommand } from "./cli/inspect.ts";
import { synthCommand } from "./cli/synth.ts";
import { simulateCommand } from "./cli/simulate.ts";
import { traceCommand } from "./cli/trace.ts";
import { tuneCommand } from "./cli/tune.ts";
import { VERSION } from "./version.ts";

function program() {
  const root = new Command("moebench")
    .description("profile machines and benchmark Mixture-of-Experts LLM inference")
    .version(VERSION)
    .addCommand(demoCommand())
    .addCommand(profileCommand())
    .addCommand(synthCommand())
    .addCommand(inspectCommand())
    .addCommand(generateCommand())
    .addCommand(evalCommand())
    .addCommand(perplexityCommand())
    .addCommand(traceCommand())
    .addCommand(simulateCommand())
    .addCommand(benchCommand())
    .addCommand(compressCommand())
    .addCommand(reportCommand())
    .addCommand(importCommand())
    .addCommand(publishCommand())
    .addCommand(serveCommand())
    .addCommand(tuneCommand());
  // user mistakes in any (sub)command exit with code 2 instead of commander's process.exit(1)
  const overrideExit = (command: Command<unknown[], Record<string, unknown>>) => {
    command.exitOverride();
    command.commands.forEach((sub) => overrideExit(sub as typeof command));
  };
  overrideExit(root as unknown as Command<unknown[], Record<string, unknown>>);
  return root;
}

if (import.meta.main) {
  try {
    await program().parseAsync(Deno.args, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed its message (or the help/version it was asked for)
      const asked = ["commander.helpDisplayed", "commander.version", "commander.help"];
      Deno.exit(asked.includes(error.code) ? 0 : EXIT_USAGE);
    }
    Deno.exit(reportError(error));
  }
}
