import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

interface Asset {
  path: string;
  body: string;
  type: string;
}

function fingerprinted(name: string, body: string, type: string): Asset {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 10);
  const dot = name.lastIndexOf('.');
  return { path: `/assets/${name.slice(0, dot)}.${hash}${name.slice(dot)}`, body, type };
}

const tokensCss = readFileSync(require.resolve('@digital-go-jp/design-tokens/dist/tokens.css'), 'utf8');
const appCss = readFileSync(fileURLToPath(new URL('./app.css', import.meta.url)), 'utf8');

/** Static assets with content-hashed names, so they can be cached for a year. */
export const assets = {
  tokens: fingerprinted('tokens.css', tokensCss, 'text/css; charset=utf-8'),
  app: fingerprinted('app.css', appCss, 'text/css; charset=utf-8'),
};

const byPath = new Map<string, Asset>(Object.values(assets).map((a) => [a.path, a]));

/** Adds a module's asset (e.g. a bundled client script) and returns its public path. */
export function registerAsset(name: string, body: string, type: string): string {
  const a = fingerprinted(name, body, type);
  byPath.set(a.path, a);
  return a.path;
}

export function findAsset(path: string): Asset | undefined {
  return byPath.get(path);
}
