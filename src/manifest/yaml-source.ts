/**
 * YAML (and JSON, which YAML 1.2 contains) documents with positions: every node can be turned back
 * into the line it came from, so each manifest error names a line.
 */

import type { Alias, Document, Node, YAMLError } from 'yaml';
import { yaml } from './yaml.js';
import { ManifestError } from '../errors.js';

const { LineCounter, isAlias, isCollection, isScalar, isSeq, parseAllDocuments, visit } = yaml;

export interface SourceDocument {
  /** The document's root node; undefined for an empty document. */
  root: Node | undefined;
  /** 1-based line where the document starts. */
  line: number;
  /** Line of a node (its first character), following aliases to nothing: an alias reports its own line. */
  lineOf(node: Node): number;
  /** The node an alias points to, or the node itself. */
  resolve(node: Node): Node | undefined;
}

/**
 * How many times the aliases of one document may be followed. Real manifests follow a few; an alias of
 * an alias of ... (the "billion laughs") would otherwise make the field walk exponential.
 */
const MAX_ALIAS_RESOLUTIONS = 10_000;

/** Parses every document of `text`; throws `file:line: yaml: <message>` on the first syntax error. */
export function parseYamlDocuments(file: string, text: string): SourceDocument[] {
  const counter = new LineCounter();
  const docs = guardDepth(file, () => parseAllDocuments(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true }));
  const lineAt = (offset: number): number => counter.linePos(offset).line;
  if (!Array.isArray(docs)) return []; // an empty stream
  const out: SourceDocument[] = [];
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) {
      const opener = openerOf(doc, err);
      let at = firstLine(err.message);
      if (opener) at += ` (${opener.what} starts on this line)`;
      // `name: app` followed by a line indented deeper reads as one multi-line key.
      else if (err.code === 'BLOCK_AS_IMPLICIT_KEY' || err.code === 'MULTILINE_IMPLICIT_KEY') at += ' (is the next line indented too far?)';
      throw new ManifestError(file, lineAt(opener?.offset ?? err.pos[0]), '', `yaml: ${at}`);
    }
    out.push(toSource(file, doc, lineAt));
  }
  return out;
}

/** The parser recurses on nesting; only absurd depth makes it overflow the stack. */
function guardDepth<T>(file: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof RangeError) throw new ManifestError(file, undefined, '', 'yaml: the document is nested too deeply');
    throw err;
  }
}

function toSource(file: string, doc: Document.Parsed, lineAt: (offset: number) => number): SourceDocument {
  const contents = doc.contents ?? undefined;
  const empty = contents === undefined || (isScalarNull(contents) && !isAlias(contents));
  const lineOf = (node: Node): number => lineAt(node.range?.[0] ?? doc.range[0]);
  // Alias.resolve searches the whole document; remember each answer.
  const targets = new Map<Alias, Node | undefined>();
  let resolutions = 0;
  const resolve = (node: Node): Node | undefined => {
    if (!isAlias(node)) return node;
    if (++resolutions > MAX_ALIAS_RESOLUTIONS) {
      throw new ManifestError(file, lineOf(node), '', `yaml: aliases expand to too much (followed more than ${MAX_ALIAS_RESOLUTIONS} times)`);
    }
    if (!targets.has(node)) targets.set(node, node.resolve(doc) ?? undefined);
    return targets.get(node);
  };
  // The parser accepts an alias of an anchor that does not exist; the API server's decoder would not.
  visit(doc, {
    Alias(_key, node) {
      if (!resolve(node)) throw new ManifestError(file, lineOf(node), '', `yaml: unknown alias ${JSON.stringify(`*${node.source}`)} (no anchor &${node.source} before it)`);
    },
  });
  resolutions = 0;
  return { root: empty ? undefined : contents, line: lineAt(contents?.range?.[0] ?? doc.range[0]), lineOf, resolve };
}

/**
 * An unclosed quote or flow collection is noticed where the document ends, or where a line is indented
 * less; the useful line is the one where it opened: the innermost such node that reaches the error.
 */
function openerOf(doc: Document.Parsed, err: YAMLError): { offset: number; what: string } | undefined {
  const pos = err.pos[0];
  const unclosedQuote = err.code === 'MISSING_CHAR' && /closing .?quote/i.test(err.message);
  const unclosedFlow = err.code === 'BAD_INDENT' && /^Flow (map|sequence)/.test(err.message);
  if (!unclosedQuote && !unclosedFlow) return undefined;
  let best: { offset: number; what: string } | undefined;
  visit(doc, (_key, node) => {
    // Pairs and empty values have no range.
    const range = (node as Node | null)?.range;
    if (!range || !(range[0] < pos && pos <= range[1])) return;
    let what: string | undefined;
    if (unclosedQuote && isScalar(node) && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE')) what = 'the quoted string';
    if (unclosedFlow && isCollection(node) && node.flow) what = isSeq(node) ? 'the [' : 'the {';
    if (what && (!best || range[0] > best.offset)) best = { offset: range[0], what };
  });
  return best;
}

function isScalarNull(node: Node): boolean {
  return 'value' in node && node.value === null && !('items' in node);
}

function firstLine(message: string): string {
  return message.split(/\r\n|\r|\n/)[0]!.replace(/ at line \d+, column \d+:?$/, '');
}
