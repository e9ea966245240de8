import assert from "node:assert/strict";
import { crashedAfterPassing, summaryPassed } from "./run_tests.ts";

const passed =
  "x ... \x1b[32mok\x1b[0m\n\n\x1b[32mok\x1b[0m | 355 passed | 0 failed \x1b[38;5;245m(8m)\x1b[0m\n";
const failed = "x ... FAILED\n\nFAILED | 354 passed | 1 failed (8m)\n";

Deno.test("a crash at exit counts as passed only after a summary without failures", () => {
  assert.equal(summaryPassed(passed), true);
  assert.equal(summaryPassed(failed), false);
  assert.equal(summaryPassed("x ... ok\n"), false);
  assert.equal(crashedAfterPassing(passed, "SIGABRT"), true);
  assert.equal(crashedAfterPassing(passed, "SIGSEGV"), true);
  // killed from outside (Ctrl-C, a timeout), failed, or died before the summary: a failure
  assert.equal(crashedAfterPassing(passed, "SIGINT"), false);
  assert.equal(crashedAfterPassing(passed, "SIGKILL"), false);
  assert.equal(crashedAfterPassing(failed, "SIGABRT"), false);
  assert.equal(crashedAfterPassing("x ... ok\n", "SIGSEGV"), false);
  assert.equal(crashedAfterPassing(passed, null), false);
});
