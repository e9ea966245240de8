/**
 * The runs a report shows: results files read through the schema (a report never trusts a file
 * it did not validate), each with a stable id (the hash of its content: publishing the same run
 * twice finds the same id) and a label people can tell apart; and which of them may be ranked
 * together — only complete standard runs of one spec version whose figures are all there.
 *
 * @example
 * ```ts ignore
 * import { loadRuns, ranking } from "./runs.ts";
 * const runs = await loadRuns(["a.json", "b.json"]);
 * console.log(ranking(runs).ranked.map((r) => r.label));
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { readResults, type ResultsFile } from "../suites/results.ts";
import { STANDARD } from "../suites/spec.ts";
import { disturbedSentence } from "../suites/conditions.ts";

/** One results file in a report. */
export interface ReportRun {
  /** The first 16 hex digits of the SHA-256 of its content. */
  readonly id: string;
  /** `cpu-only · AMD EPYC · standard · 2026-12-05 00:45`, unique within the report. */
  readonly label: string;
  readonly results: ResultsFile;
}

/** The id of a run: its canonical JSON's hash. */
export function runId(results: ResultsFile): string {
  return createHash("sha256").update(JSON.stringify(results)).digest("hex").slice(0, 16);
}

/** Reads and validates each file; labels are made unique by numbering repeats. */
export async function loadRuns(paths: readonly string[]): Promise<ReportRun[]> {
  const all: ResultsFile[] = [];
  for (const path of paths) all.push(await readResults(path));
  return toRuns(all);
}

/** Runs of validated results. */
export function toRuns(all: readonly ResultsFile[]): ReportRun[] {
  const seen = new Map<string, number>();
  return all.map((results) => {
    const cpu = results.machine.hardware.cpu.model.value ?? "unknown CPU";
    const when = results.timestamp.slice(0, 16).replace("T", " ");
    let label = `${results.machine.profile} · ${cpu} · ${results.suite} · ${when}`;
    const count = (seen.get(label) ?? 0) + 1;
    seen.set(label, count);
    if (count > 1) label += ` (#${count})`;
    return { id: runId(results), label, results };
  });
}

/** Which runs are ranked, which are not and why, and what a reader should be warned of. */
export interface Ranking {
  /** Best score first. */
  readonly ranked: readonly ReportRun[];
  readonly unranked: readonly { readonly run: ReportRun; readonly why: string }[];
  readonly warnings: readonly string[];
}

/**
 * Why a standard run of the current spec cannot be trusted, or null: a model whose SHA-256 is not
 * the spec's, or a cpu decode whose greedy tokens are not the spec's (a wrong engine or a
 * corrupted model computed them).
 */
export function provenanceProblem(results: ResultsFile): string | null {
  if (results.spec?.version !== STANDARD.version) return null;
  const { main, qualityReference, qualityVariants } = STANDARD.models;
  for (const spec of [main, qualityReference, ...qualityVariants]) {
    const model = results.models.find((m) => m.id === spec.id);
    if (model && model.sha256 !== spec.sha256) {
      return `model ${spec.id} is not the spec's (SHA-256 ${model.sha256.slice(0, 12)}…)`;
    }
  }
  const expected = STANDARD.expectedOutput;
  for (const record of results.tests) {
    if (record.model !== expected.model || record.test !== expected.test) continue;
    if (record.backend === expected.backend) {
      if (record.details["output_sha256"] !== expected.sha256) {
        return `its ${record.test} (${record.config}) decoded other tokens than the spec's`;
      }
      continue;
    }
    const agreement = record.details["output_agreement"];
    const which = `its ${record.test} (${record.backend}, ${record.config})`;
    if (typeof agreement !== "number") return `${which} was not checked against the spec's tokens`;
    if (agreement < expected.minAgreement) {
      return `${which} chose the spec's next token at ${(agreement * 100).toFixed(0)} % of the ` +
        `positions (at least ${expected.minAgreement * 100} % asked)`;
    }
  }
  return null;
}

/**
 * Ranks the complete standard runs of the most common spec version among `runs`; every other
 * run is listed with the reason, and mixed versions or engine configs are warned of.
 */
export function ranking(runs: readonly ReportRun[]): Ranking {
  const specOf = (run: ReportRun) =>
    run.results.spec ? `${run.results.spec.name} v${run.results.spec.version}` : null;
  const counts = new Map<string, number>();
  for (const run of runs) {
    const spec = specOf(run);
    if (spec && run.results.suite === "standard") counts.set(spec, (counts.get(spec) ?? 0) + 1);
  }
  const chosen = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
  const ranked: ReportRun[] = [];
  const unranked: { run: ReportRun; why: string }[] = [];
  for (const run of runs) {
    const { results } = run;
    const spec = specOf(run);
    const why = results.suite !== "standard"
      ? `a ${results.suite} suite run (only standard runs are ranked)`
      : spec === null
      ? "not a run of the standard spec"
      : spec !== chosen
      ? `${spec}: another version than ${chosen}`
      : !results.complete
      ? "incomplete (interrupted)"
      : results.score === null
      ? "no score (a figure of it is missing)"
      : provenanceProblem(results);
    if (why) unranked.push({ run, why });
    else ranked.push(run);
  }
  ranked.sort((a, b) => b.results.score!.value - a.results.score!.value);
  const warnings: string[] = [];
  const versions = new Set(runs.map(specOf).filter((spec) => spec !== null));
  if (versions.size > 1) {
    warnings.push(
      `These runs follow different spec versions (${[...versions].join(", ")}): only runs of ` +
        `${chosen} are ranked; figures of other versions are not comparable.`,
    );
  }
  const configs = new Set(runs.map((run) => JSON.stringify(run.results.config)));
  if (configs.size > 1) {
    warnings.push("These runs used different engine configs: compare their figures with care.");
  }
  for (const run of runs) {
    const sentence = disturbedSentence(run.label, run.results.tests);
    if (sentence) warnings.push(sentence);
  }
  return { ranked, unranked, warnings };
}
