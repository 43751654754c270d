/**
 * The structural pass: walks a YAML node against the field table in pod-schema.ts. Unknown fields,
 * fields podns rejects, and values of the wrong type are errors; ignored fields become warnings.
 * The result is plain data of the right shapes plus the line of every field path, for the value
 * checks in validate.ts.
 */

import type { Node } from 'yaml';
import { yaml } from './yaml.js';
import { ManifestError } from '../errors.js';
import type { FieldRule, Json, ObjectSchema, ValueType } from './pod-schema.js';
import { suggestName } from './suggest.js';
import type { SourceDocument } from './yaml-source.js';

const { isMap, isScalar, isSeq } = yaml;

export type Plain = Record<string, unknown>;

export interface CheckContext {
  file: string;
  source: SourceDocument;
  /** Field path (`spec.containers[0].image`) → line of its key, or of the list item. */
  lines: Map<string, number>;
  warnings: string[];
}

const NOT_YET = 'not supported by podns yet';

/** Checks a mapping against `schema`; `line` is where the mapping's key (or list item) is. */
export function checkObject(node: Node, schema: ObjectSchema, path: string, line: number, ctx: CheckContext): Plain {
  const target = ctx.source.resolve(node);
  if (!target || !isMap(target)) throw typeError(ctx, path, line, 'a mapping', target);
  const out: Plain = {};
  for (const pair of target.items) {
    const keyNode = pair.key as Node | null;
    const keyLine = keyNode ? ctx.source.lineOf(keyNode) : line;
    const name = keyText(keyNode, ctx, path, keyLine);
    const fieldPath = path ? `${path}.${name}` : name;
    const rule: FieldRule | undefined = Object.hasOwn(schema.fields, name) ? schema.fields[name] : name === '<<' ? undefined : schema.other;
    if (!rule && name === '<<') {
      throw new ManifestError(ctx.file, keyLine, path, 'YAML merge keys (<<) are not supported: write the fields out, or use an alias for the whole value');
    }
    if (!rule) {
      const guess = suggestName(name, Object.keys(schema.fields));
      throw new ManifestError(ctx.file, keyLine, path, `unknown field ${JSON.stringify(name)}${guess ? ` (did you mean "${guess}"?)` : ''}`);
    }
    const valueNode = pair.value as Node | null;
    ctx.lines.set(fieldPath, keyLine);
    // A null value is an absent field, as in the API server's JSON decoding.
    if (!valueNode || isNull(valueNode, ctx)) continue;
    out[name] = checkField(valueNode, rule, fieldPath, keyLine, ctx);
  }
  for (const [name, rule] of Object.entries(schema.fields)) {
    if (rule.use === 'honoured' && rule.required && out[name] === undefined) {
      throw new ManifestError(ctx.file, line, path ? `${path}.${name}` : name, 'required value');
    }
  }
  return out;
}

function checkField(node: Node, rule: FieldRule, path: string, line: number, ctx: CheckContext): unknown {
  if (rule.use === 'honoured') return checkValue(node, rule.type, path, line, ctx);
  const value = toPlain(node, ctx, path, line);
  if (rule.use === 'rejected') {
    if (rule.accept?.some((ok) => sameJson(ok, value))) return undefined;
    throw new ManifestError(ctx.file, line, path, rule.why ?? NOT_YET);
  }
  if (rule.when && !rule.when.some((ok) => sameJson(ok, value))) {
    throw new ManifestError(ctx.file, line, path, `${JSON.stringify(value)} is ${NOT_YET}`);
  }
  if (!isEmpty(value)) ctx.warnings.push(`${ctx.file}:${line}: ${path}: ignored: ${rule.why}`);
  return undefined;
}

function checkValue(node: Node, type: ValueType, path: string, line: number, ctx: CheckContext): unknown {
  const target = ctx.source.resolve(node);
  switch (type.kind) {
    case 'string': {
      const v = scalarValue(target);
      if (typeof v !== 'string') throw typeError(ctx, path, line, 'a string', target);
      return v;
    }
    case 'int': {
      const v = yaml11Octal(target) ?? scalarValue(target);
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw typeError(ctx, path, line, 'an integer', target);
      return v;
    }
    case 'bool': {
      const v = scalarValue(target);
      if (typeof v !== 'boolean') throw typeError(ctx, path, line, 'a boolean (true or false)', target);
      return v;
    }
    case 'quantity': {
      // A Quantity unmarshals from a JSON string or number; keep the text, validate.ts parses it.
      const v = scalarValue(target);
      if (typeof v === 'number' && Number.isFinite(v)) return String(v);
      if (typeof v !== 'string') throw typeError(ctx, path, line, 'a quantity such as "128Mi"', target);
      return v;
    }
    case 'intOrString': {
      // intstr.IntOrString's UnmarshalJSON: a JSON string is the string kind whatever it holds, a number must be
      // an int32.
      const v = scalarValue(target);
      if (typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= 0x7fffffff)) return v;
      throw typeError(ctx, path, line, 'an integer or a string', target);
    }
    case 'stringList': {
      if (!target || !isSeq(target)) throw typeError(ctx, path, line, 'a list of strings', target);
      return target.items.map((item, i) => {
        const itemLine = ctx.source.lineOf(item as Node);
        ctx.lines.set(`${path}[${i}]`, itemLine);
        const v = scalarValue(ctx.source.resolve(item as Node));
        if (typeof v !== 'string') throw typeError(ctx, `${path}[${i}]`, itemLine, 'a string', ctx.source.resolve(item as Node));
        return v;
      });
    }
    case 'intList': {
      if (!target || !isSeq(target)) throw typeError(ctx, path, line, 'a list of integers', target);
      return target.items.map((item, i) => {
        const itemLine = ctx.source.lineOf(item as Node);
        ctx.lines.set(`${path}[${i}]`, itemLine);
        const v = scalarValue(ctx.source.resolve(item as Node));
        if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw typeError(ctx, `${path}[${i}]`, itemLine, 'an integer', ctx.source.resolve(item as Node));
        return v;
      });
    }
    case 'stringMap': {
      if (!target || !isMap(target)) throw typeError(ctx, path, line, 'a mapping of strings', target);
      const out: Record<string, string> = {};
      for (const pair of target.items) {
        const keyNode = pair.key as Node | null;
        const keyLine = keyNode ? ctx.source.lineOf(keyNode) : line;
        const key = keyText(keyNode, ctx, path, keyLine);
        const valueNode = pair.value as Node | null;
        const v = valueNode ? scalarValue(ctx.source.resolve(valueNode)) : null;
        ctx.lines.set(keyPath(path, key), keyLine);
        if (v === null) setOwn(out, key, '');
        else if (typeof v === 'string') setOwn(out, key, v);
        else throw typeError(ctx, keyPath(path, key), keyLine, 'a string', ctx.source.resolve(valueNode!));
      }
      return out;
    }
    case 'object':
      return checkObject(node, type.schema, path, line, ctx);
    case 'list': {
      if (!target || !isSeq(target)) throw typeError(ctx, path, line, 'a list', target);
      return target.items.map((item, i) => {
        const itemPath = `${path}[${i}]`;
        const itemLine = ctx.source.lineOf(item as Node);
        ctx.lines.set(itemPath, itemLine);
        return checkObject(item as Node, type.item, itemPath, itemLine, ctx);
      });
    }
  }
}

/**
 * The field path of a map entry, `metadata.labels[app]`; a key that is not plain printable ASCII is quoted,
 * so a message stays one line.
 */
export function keyPath(path: string, key: string): string {
  return `${path}[${/^[\x20-\x7e]*$/.test(key) ? key : JSON.stringify(key)}]`;
}

function keyText(key: Node | null, ctx: CheckContext, path: string, line: number): string {
  const target = key ? ctx.source.resolve(key) : undefined;
  const v = scalarValue(target);
  if (v === undefined) throw new ManifestError(ctx.file, line, path, 'keys must be strings');
  return String(v);
}

/**
 * `0644` is octal to the API server (sigs.k8s.io/yaml reads YAML 1.1, as every file mode in a manifest is
 * written), but 644 to YAML 1.2, which the parser follows; 0644 would be refused and 0400 silently wrong.
 */
function yaml11Octal(node: Node | undefined): number | undefined {
  if (!node || !isScalar(node) || node.type !== 'PLAIN' || typeof node.source !== 'string') return undefined;
  const m = /^([-+]?)0([0-7]+)$/.exec(node.source);
  return m ? (m[1] === '-' ? -1 : 1) * parseInt(m[2]!, 8) : undefined;
}

/** A scalar's value (string, number, boolean or null); undefined for a mapping, a list or nothing. */
function scalarValue(node: Node | undefined): unknown {
  return node && isScalar(node) ? node.value : undefined;
}

function isNull(node: Node, ctx: CheckContext): boolean {
  return scalarValue(ctx.source.resolve(node)) === null;
}

function describe(node: Node | undefined): string {
  if (!node) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  const v = scalarValue(node);
  if (v === null) return 'null';
  if (typeof v === 'string') return `string ${JSON.stringify(v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  // A tag such as !!binary makes a value no JSON type has.
  return `a ${JSON.stringify((node as { tag?: string }).tag ?? 'tagged')} value`;
}

function typeError(ctx: CheckContext, path: string, line: number, expected: string, got: Node | undefined): ManifestError {
  const v = scalarValue(got);
  // The classic YAML trap: `value: 80` or `value: yes` where Kubernetes wants a string.
  const hint = expected === 'a string' && (typeof v === 'number' || typeof v === 'boolean') ? ` (quote it: "${String(v)}")` : '';
  return new ManifestError(ctx.file, line, path, `must be ${expected}, got ${describe(got)}${hint}`);
}

/** Aliases may make a node contain itself, and ignored fields may hold anything: both are bounded. */
const MAX_DEPTH = 100;

function toPlain(node: Node | null | undefined, ctx: CheckContext, path: string, line: number, open: Node[] = []): Json {
  const target = node ? ctx.source.resolve(node) : undefined;
  if (!target) return null;
  if (!isMap(target) && !isSeq(target)) {
    const v = scalarValue(target);
    return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : null;
  }
  if (open.includes(target)) throw new ManifestError(ctx.file, ctx.source.lineOf(node!), path, 'yaml: an alias refers to a collection that contains it');
  if (open.length >= MAX_DEPTH) throw new ManifestError(ctx.file, line, path, `nested more than ${MAX_DEPTH} levels deep`);
  const inner = [...open, target];
  if (isSeq(target)) return target.items.map((item) => toPlain(item as Node, ctx, path, line, inner));
  const out: Record<string, Json> = {};
  for (const pair of target.items) setOwn(out, String(toPlain(pair.key as Node, ctx, path, line, inner)), toPlain(pair.value as Node, ctx, path, line, inner));
  return out;
}

/** `out[key] = value`, also for a key named `__proto__` (which plain assignment would swallow). */
function setOwn<T>(out: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
}

function isEmpty(value: Json): boolean {
  if (value === '' || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value).length === 0;
}

function sameJson(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ak = Object.keys(a);
  const bk = Object.keys(b);
  if (ak.length !== bk.length) return false;
  return ak.every((k) => Object.hasOwn(b, k) && sameJson((a as Record<string, Json>)[k]!, (b as Record<string, Json>)[k]!));
}
