import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const PERMISSIVE = new Set(['MIT', 'MIT-0', 'ISC', 'BSD-2-Clause', 'BSD-3-Clause', 'Apache-2.0', '0BSD', 'BlueOak-1.0.0', 'CC0-1.0', 'Unlicense', 'Python-2.0', 'Zlib']);

/** An SPDX expression is acceptable when one OR-branch is entirely permissive. */
function permissive(expression: string): boolean {
  return expression
    .replace(/[()]/g, '')
    .split(/\s+OR\s+/)
    .some((branch) => branch.split(/\s+AND\s+/).every((id) => PERMISSIVE.has(id.trim())));
}

function licenceOf(name: string): string {
  const pkg = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { license?: string | { type: string } };
  return typeof pkg.license === 'string' ? pkg.license : pkg.license?.type ?? 'UNKNOWN';
}

function runtimeTree(): Set<string> {
  const root = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
  const seen = new Set<string>();
  const visit = (name: string, from: string) => {
    if (seen.has(name)) return;
    let path: string;
    try {
      path = createRequire(from).resolve(`${name}/package.json`);
    } catch {
      return; // optional or platform-specific dependency not installed here
    }
    seen.add(name);
    const pkg = JSON.parse(readFileSync(path, 'utf8')) as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep, path);
  };
  for (const name of Object.keys(root.dependencies)) visit(name, `${process.cwd()}/package.json`);
  return seen;
}

// H-17: no database or per-user licence fees as data grows — everything that runs in production is
// under a permissive open-source licence, and the databases are SQLite and PostgreSQL.
describe('licences of what runs in production (H-17)', () => {
  it('every runtime dependency, direct and transitive, is permissively licensed', () => {
    const offenders = [...runtimeTree()].map((n) => [n, licenceOf(n)] as const).filter(([, l]) => !permissive(l));
    expect(offenders).toEqual([]);
  });
  it('the project itself is open source', () => {
    expect(JSON.parse(readFileSync('package.json', 'utf8')).license).toBe('MIT');
  });
});
