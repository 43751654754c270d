/**
 * Where the value pass reports problems: a field path becomes a `file:line: path: message` ManifestError,
 * with the line of the path, or of its nearest ancestor that has one.
 */

import { ManifestError } from '../errors.js';

export class Reporter {
  constructor(
    readonly file: string,
    /** Field path → line, as recorded by check-fields.ts. */
    readonly lines: Map<string, number>,
    readonly docLine: number,
    /** Where the pod is in the document: '' for a Pod, `spec.template.` for a workload's pod template. */
    readonly prefix = '',
  ) {}

  /** The path as the document has it (the prefix before it), for messages built outside fail(). */
  at(path: string): string {
    return this.prefix + path;
  }

  lineOf(path: string): number {
    for (let p = this.prefix + path; p; ) {
      const line = this.lines.get(p);
      if (line !== undefined) return line;
      const parent = p.replace(/(\.[^.[]*|\[[^\]]*\])$/, '');
      // A map key holding '.' or '[' may not split cleanly; stop rather than loop.
      if (parent === p) break;
      p = parent;
    }
    return this.docLine;
  }

  /** Fails at `path`; `linePath` names a more precise line when the problem is about the whole of `path`. */
  fail(path: string, detail: string, linePath = path): never {
    throw new ManifestError(this.file, this.lineOf(linePath), this.prefix + path, detail);
  }

  check(path: string, problem: string | undefined, value: string): void {
    if (problem) this.fail(path, `invalid value ${JSON.stringify(value)}: ${problem}`);
  }

  oneOf<T extends string>(path: string, value: string, allowed: readonly T[]): T {
    if (!(allowed as readonly string[]).includes(value)) {
      this.fail(path, `unsupported value ${JSON.stringify(value)}: must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
    }
    return value as T;
  }

  absolutePath(path: string, value: string): void {
    if (!value.startsWith('/')) this.fail(path, `invalid value ${JSON.stringify(value)}: must be an absolute path`);
  }

  relativePath(path: string, value: string): void {
    if (value.startsWith('/')) this.fail(path, `invalid value ${JSON.stringify(value)}: must be a relative path`);
  }

  noBacksteps(path: string, value: string): void {
    if (value.split('/').includes('..')) this.fail(path, `invalid value ${JSON.stringify(value)}: must not contain '..'`);
  }

  /**
   * ValidateLocalNonReservedPath, for the files of configMap, secret, downwardAPI and projected volumes:
   * present, relative, no ".." element, and not starting with ".." (kubelet's AtomicWriter keeps `..data` and
   * its timestamped directories there).
   */
  localNonReservedPath(path: string, value: string): void {
    if (value === '') this.fail(path, 'required value');
    this.relativePath(path, value);
    this.noBacksteps(path, value);
    if (value.startsWith('..')) this.fail(path, `invalid value ${JSON.stringify(value)}: must not start with '..'`);
  }

  /** Fails on the second occurrence of a value (undefined values are skipped). */
  noDuplicates(what: string, values: (string | undefined)[], pathOf: (i: number) => string): void {
    const seen = new Map<string, number>();
    values.forEach((v, i) => {
      if (v === undefined) return;
      const first = seen.get(v);
      if (first !== undefined) this.fail(pathOf(i), `duplicate ${what} ${JSON.stringify(v)} (first at line ${this.lineOf(pathOf(first))})`);
      seen.set(v, i);
    });
  }
}
