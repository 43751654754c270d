// Reads vitest's JSON report and prints the plain closing line CI reads ("N passed, N failed, N skipped").
// Under CI it also fails the run when any kernel test was skipped: a skipped kernel test there is a bug.
import fs from 'node:fs';

const [report] = process.argv.slice(2);
const data = JSON.parse(fs.readFileSync(report, 'utf8'));
let passed = 0;
let failed = 0;
let skipped = 0;
const skippedKernel = [];
for (const file of data.testResults ?? []) {
  for (const t of file.assertionResults ?? []) {
    if (t.status === 'passed') passed++;
    else if (t.status === 'failed') failed++;
    else {
      skipped++;
      if (file.name.includes('/test/kernel/')) skippedKernel.push(`${file.name}: ${t.fullName}`);
    }
  }
}
// A file that failed to load (e.g. the kernel harness refusing to run in CI) has no assertions: count it.
const brokenFiles = (data.testResults ?? []).filter((f) => f.status === 'failed' && !(f.assertionResults ?? []).length).length;
failed += brokenFiles;
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (process.env.CI && skippedKernel.length) {
  console.error(`kernel tests were skipped under CI:\n${skippedKernel.join('\n')}`);
  process.exit(1);
}
process.exit(failed > 0 || data.success === false ? 1 : 0);
