/**
 * Running a suite's tasks into a results file: after every task the file is rewritten
 * (atomically) with the records so far and the task listed as done, so an interrupted run leaves
 * the last good file; `resume` reads it back, checks that it was made with the same options,
 * and runs only the tasks not yet done.
 *
 * @example
 * ```ts ignore
 * import { runPlan } from "./run.ts";
 * const results = await runPlan(plan, { out: "r.json", resume: false, machine });
 * console.log(results.complete, results.tests.length);
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import type { MachineProfile } from "../profiles/machine.ts";
import { VERSION } from "../version.ts";
import {
  type ModelRecord,
  readResults,
  ResultsError,
  type ResultsFile,
  type Score,
  type SuiteName,
  type TestRecord,
  writeResults,
} from "./results.ts";
import type { BenchModel, Task } from "./task.ts";

/** What a run does. */
export interface RunPlan {
  readonly suite: SuiteName;
  readonly spec: ResultsFile["spec"];
  /** The options that decide what is measured (a resume must repeat them). */
  readonly options: ResultsFile["options"];
  readonly config: ResultsFile["config"];
  readonly models: readonly BenchModel[];
  readonly tasks: readonly Task[];
  /** The headline score from the records (the standard's), or null. */
  readonly score?: (tests: readonly TestRecord[]) => Score | null;
}

/** Where the run goes. */
export interface RunOutput {
  /** Results file, rewritten after each task (null: kept in memory only). */
  readonly out: string | null;
  /** Continue `out` where an interrupted run left it. */
  readonly resume: boolean;
  readonly machine: MachineProfile;
  /** Called before each task runs (index among all tasks, done ones included). */
  readonly onTask?: (index: number, count: number, label: string) => void;
}

/** Runs the plan's tasks not yet done; returns the complete results. */
export async function runPlan(plan: RunPlan, output: RunOutput): Promise<ResultsFile> {
  let results: ResultsFile = output.resume ? await resumable(plan, output.out) : {
    format: "moebench-results",
    format_version: 1,
    spec: plan.spec,
    moebench: { version: VERSION, commit: await gitCommit() },
    runtime: {
      ...Deno.version,
      config_sha256: createHash("sha256").update(JSON.stringify(plan.config)).digest("hex"),
    },
    timestamp: new Date().toISOString(),
    suite: plan.suite,
    complete: false,
    done: [],
    options: plan.options,
    machine: output.machine,
    config: plan.config,
    models: plan.models.map(modelRecord),
    tests: [],
    peers: [],
    score: null,
  };
  for (const [index, task] of plan.tasks.entries()) {
    if (results.done.includes(task.id)) continue;
    output.onTask?.(index, plan.tasks.length, task.label);
    const { tests, peers } = await task.run();
    results = {
      ...results,
      done: [...results.done, task.id],
      tests: [...results.tests, ...tests],
      peers: [...results.peers, ...peers],
    };
    if (output.out !== null) await writeResults(output.out, results);
  }
  results = { ...results, complete: true, score: plan.score?.(results.tests) ?? null };
  if (output.out !== null) await writeResults(output.out, results);
  return results;
}

/** The interrupted run in `out`, checked to be this plan's. */
async function resumable(plan: RunPlan, out: string | null): Promise<ResultsFile> {
  if (out === null) throw new ResultsError("--resume needs --out: the results file to continue");
  const results = await readResults(out);
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (
    results.suite !== plan.suite || !same(results.spec, plan.spec) ||
    !same(results.options, plan.options) || !same(results.config, plan.config) ||
    !same(results.models, plan.models.map(modelRecord))
  ) {
    throw new ResultsError(
      `${out}: made by another run (suite, options, engine config or models differ); ` +
        `cannot resume it`,
    );
  }
  return results;
}

/** A model as results files record it. */
function modelRecord(model: BenchModel): ModelRecord {
  const { type: _, ...record } = model;
  return record;
}

/** The commit moebench runs from, when it runs from a git checkout. */
async function gitCommit(): Promise<string | null> {
  const dir = new URL(".", import.meta.url);
  if (dir.protocol !== "file:") return null;
  try {
    const output = await new Deno.Command("git", {
      args: ["-C", decodeURIComponent(dir.pathname), "rev-parse", "HEAD"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const commit = new TextDecoder().decode(output.stdout).trim();
    return output.success && /^[0-9a-f]{40}$/.test(commit) ? commit : null;
  } catch {
    return null;
  }
}
