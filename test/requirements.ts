/**
 * How a test file says what it needs from the machine (root, a tool, the test image archives). Locally a
 * missing requirement skips those tests with the reason printed once; under CI (CI=true) the file fails
 * instead, because a test CI skips proves nothing (scripts/test-summary.mjs fails the run on any skip, too).
 */

/** True when `missing` is not empty (skip); throws under CI; `what` names the tests in the messages. */
export function skipWithout(what: string, missing: string[]): boolean {
  if (missing.length === 0) return false;
  if (process.env.CI) throw new Error(`${what} cannot run in CI: missing ${missing.join(', ')}`);
  console.warn(`${what} skipped: missing ${missing.join(', ')}`);
  return true;
}
