// Reads vitest's JSON report and prints the plain closing line CI reads ("tests: N passed, N failed, N skipped").
// Under CI it also fails the run when any test was skipped (unit or kernel: a test CI skips proves nothing)
// or when no test ran at all (a run that found nothing to run, e.g. a wrong path in the VM, is no pass).
import fs from 'node:fs';

const [report] = process.argv.slice(2);
let data;
try {
  data = JSON.parse(fs.readFileSync(report, 'utf8'));
} catch (err) {
  console.error(`tests: no report from vitest (${err.message})`);
  process.exit(1);
}
let passed = 0;
let failed = 0;
let skipped = 0;
const skippedTests = [];
for (const file of data.testResults ?? []) {
  for (const t of file.assertionResults ?? []) {
    if (t.status === 'passed') passed++;
    else if (t.status === 'failed') failed++;
    else {
      skipped++;
      skippedTests.push(`${file.name}: ${t.fullName} (${t.status})`);
    }
  }
}
// A file that failed to load (e.g. a harness refusing to run in CI for want of a requirement) has no assertions: count it.
const brokenFiles = (data.testResults ?? []).filter((f) => f.status === 'failed' && !(f.assertionResults ?? []).length).length;
failed += brokenFiles;
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (process.env.CI && skippedTests.length) {
  console.error(`tests were skipped under CI:\n${skippedTests.join('\n')}`);
  process.exit(1);
}
if (process.env.CI && passed + failed === 0) {
  console.error('no test ran under CI');
  process.exit(1);
}
process.exit(failed > 0 || data.success === false ? 1 : 0);
