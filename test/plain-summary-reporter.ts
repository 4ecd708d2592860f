/**
 * Ends the test output with one plain line, `N passed, N failed[, N skipped]`, which CI reads
 * (vitest's own summary is decorated and not machine-read). Files that fail to load count as
 * failures, so a syntax error can never look like a green run.
 */
import type { Reporter, TestModule } from "vitest/node";

export default class PlainSummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = unhandledErrors.length;
    let skipped = 0;
    for (const mod of testModules) {
      const tests = [...mod.children.allTests()];
      if (tests.length === 0 && mod.state() === "failed") failed++;
      for (const t of tests) {
        const s = t.result().state;
        if (s === "passed") passed++;
        else if (s === "failed") failed++;
        else skipped++;
      }
    }
    const tail = skipped > 0 ? `, ${skipped} skipped` : "";
    process.stdout.write(`\n${passed} passed, ${failed} failed${tail}\n`);
  }
}
