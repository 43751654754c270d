/**
 * YAML (and JSON, which YAML 1.2 contains) documents with positions: every node can be turned back
 * into the line it came from, so each manifest error names a line.
 */

import { LineCounter, isAlias, parseAllDocuments, type Document, type Node } from 'yaml';
import { ManifestError } from '../errors.js';

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

/** Parses every document of `text`; throws `file:line: yaml: <message>` on the first syntax error. */
export function parseYamlDocuments(file: string, text: string): SourceDocument[] {
  const counter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const lineAt = (offset: number): number => counter.linePos(offset).line;
  if (!Array.isArray(docs)) return []; // an empty stream
  const out: SourceDocument[] = [];
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) throw new ManifestError(file, lineAt(err.pos[0]), '', `yaml: ${firstLine(err.message)}`);
    out.push(toSource(doc, lineAt));
  }
  return out;
}

function toSource(doc: Document.Parsed, lineAt: (offset: number) => number): SourceDocument {
  const contents = doc.contents ?? undefined;
  const empty = contents === undefined || (isScalarNull(contents) && !isAlias(contents));
  return {
    root: empty ? undefined : contents,
    line: lineAt(contents?.range?.[0] ?? doc.range[0]),
    lineOf: (node) => lineAt(node.range?.[0] ?? doc.range[0]),
    resolve: (node) => (isAlias(node) ? (node.resolve(doc) ?? undefined) : node),
  };
}

function isScalarNull(node: Node): boolean {
  return 'value' in node && node.value === null && !('items' in node);
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}
