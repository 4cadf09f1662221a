#!/usr/bin/env node
/* Adds up Jest's and Playwright's JSON reports into one closing line: "tests: N passed, N failed". */
const fs = require('node:fs');

let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];

const [jestFile, e2eFile] = process.argv.slice(2);
if (fs.existsSync(jestFile)) {
  const jest = JSON.parse(fs.readFileSync(jestFile, 'utf8'));
  passed += jest.numPassedTests;
  failed += jest.numFailedTests;
  skipped += jest.numPendingTests + (jest.numTodoTests ?? 0);
  // A suite that failed to run (syntax error, crash) has no failed test but is a failure.
  failed += jest.testResults.filter(
    r => r.status === 'failed' && r.assertionResults.length === 0,
  ).length;
} else {
  missing.push(jestFile);
}
if (fs.existsSync(e2eFile)) {
  const e2e = JSON.parse(fs.readFileSync(e2eFile, 'utf8'));
  passed += e2e.stats.expected;
  failed += e2e.stats.unexpected + e2e.stats.flaky;
  skipped += e2e.stats.skipped;
} else {
  missing.push(e2eFile);
}
for (const f of missing) console.log(`missing test report: ${f}`);
console.log(
  `tests: ${passed} passed, ${
    failed + missing.length
  } failed, ${skipped} skipped`,
);
process.exit(failed + missing.length > 0 ? 1 : 0);
