/**
 * `npm run lint` step: no import circle between files, or between folders, of `server/src`
 * and `sandbox/`, and the sandbox imports nothing from `server/`. ESLint's zones forbid the
 * wrong arrows one by one; a circle needs the whole graph, so this walks it (Tarjan's
 * strongly connected components, linear in files + imports).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');

/** Every `.ts` file under `dir`, repo-relative. */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(root, dir))) {
    const rel = path.join(dir, name);
    if (statSync(path.join(root, rel)).isDirectory()) out.push(...sources(rel));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

/**
 * Relative specifiers of static imports and re-exports (type-only ones too: a circle of
 * types is still a circle of meaning) and of dynamic `import()`s.
 */
export function relativeSpecifiers(source: string): string[] {
  const found: string[] = [];
  for (const keyword of [' from ', 'import(']) {
    let at = source.indexOf(keyword);
    while (at !== -1) {
      let i = at + keyword.length;
      while (source[i] === ' ') i += 1;
      const quote = source[i];
      if (quote === "'" || quote === '"') {
        const end = source.indexOf(quote, i + 1);
        const spec = end === -1 ? '' : source.slice(i + 1, end);
        if (spec.startsWith('./') || spec.startsWith('../')) found.push(spec);
      }
      at = source.indexOf(keyword, at + keyword.length);
    }
  }
  return found;
}

export interface ImportGraph {
  readonly files: readonly string[];
  readonly edges: ReadonlyMap<string, readonly string[]>;
}

export function importGraph(dirs: readonly string[]): ImportGraph {
  const files = dirs.flatMap(sources);
  const known = new Set(files);
  const edges = new Map<string, string[]>();
  for (const file of files) {
    const targets = relativeSpecifiers(readFileSync(path.join(root, file), 'utf8'))
      .map((spec) => path.normalize(path.join(path.dirname(file), spec)))
      .filter((target) => known.has(target) || target.startsWith('server'));
    edges.set(file, targets);
  }
  return { files, edges };
}

/** Strongly connected components with more than one member (the circles). */
export function circles(nodes: readonly string[], edges: ReadonlyMap<string, readonly string[]>) {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const found: string[][] = [];
  // Iterative, so a deep import chain cannot overflow the call stack.
  for (const start of nodes) {
    if (index.has(start)) continue;
    const work: { node: string; next: number }[] = [{ node: start, next: 0 }];
    index.set(start, counter);
    low.set(start, counter);
    counter += 1;
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      if (!frame) break;
      const targets = edges.get(frame.node) ?? [];
      if (frame.next < targets.length) {
        const target = targets[frame.next] ?? '';
        frame.next += 1;
        if (!edges.has(target)) continue;
        if (!index.has(target)) {
          index.set(target, counter);
          low.set(target, counter);
          counter += 1;
          stack.push(target);
          onStack.add(target);
          work.push({ node: target, next: 0 });
        } else if (onStack.has(target)) {
          low.set(frame.node, Math.min(low.get(frame.node) ?? 0, index.get(target) ?? 0));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) {
        low.set(parent.node, Math.min(low.get(parent.node) ?? 0, low.get(frame.node) ?? 0));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string | undefined;
        do {
          member = stack.pop();
          if (member === undefined) break;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        if (component.length > 1) found.push(component.sort());
      }
    }
  }
  return found;
}

export function folderEdges(graph: ImportGraph): Map<string, string[]> {
  const folders = new Map<string, Set<string>>();
  for (const file of graph.files) folders.set(path.dirname(file), new Set());
  for (const [file, targets] of graph.edges) {
    const from = path.dirname(file);
    for (const target of targets) {
      const to = path.dirname(target);
      if (to !== from && folders.has(to)) folders.get(from)?.add(to);
    }
  }
  return new Map([...folders].map(([folder, set]) => [folder, [...set]]));
}

export function checkImportGraph(): string[] {
  const graph = importGraph(['server/src', 'sandbox']);
  const problems: string[] = [];
  for (const circle of circles(graph.files, graph.edges)) {
    problems.push(`files import each other in a circle: ${circle.join(' → ')}`);
  }
  const folders = folderEdges(graph);
  for (const circle of circles([...folders.keys()], folders)) {
    problems.push(`folders import each other in a circle: ${circle.join(' → ')}`);
  }
  for (const [file, targets] of graph.edges) {
    if (!file.startsWith('sandbox/')) continue;
    for (const target of targets) {
      if (target.startsWith('server/'))
        problems.push(`${file} imports ${target}: the sandbox imports nothing from server/`);
    }
  }
  return problems;
}

if (import.meta.main) {
  const problems = checkImportGraph();
  for (const problem of problems) process.stderr.write(`${problem}\n`);
  if (problems.length > 0) process.exit(1);
  process.stdout.write('import graph: no circles between files or folders\n');
}
