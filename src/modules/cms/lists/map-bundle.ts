/**
 * Bundles the spot map's client script (Leaflet included) and its stylesheet (Leaflet's CSS with
 * the marker and layer images inlined as data: URLs) with esbuild, once per process, and serves
 * them as content-hashed assets.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { registerAsset } from '../../../core/ui/assets.js';

export interface MapBundle {
  jsPath: string;
  cssPath: string;
  jsBytes: number;
}

let pending: Promise<MapBundle> | null = null;
let built: MapBundle | null = null;

async function bundle(): Promise<MapBundle> {
  const common = { bundle: true, write: false, minify: true, legalComments: 'eof', logLevel: 'silent', loader: { '.png': 'dataurl' } } as const;
  const [js, css] = await Promise.all([
    build({ ...common, entryPoints: [fileURLToPath(new URL('./map-client.ts', import.meta.url))], format: 'esm', platform: 'browser', target: 'es2020', tsconfigRaw: { compilerOptions: {} } }),
    build({ ...common, entryPoints: [fileURLToPath(new URL('./map.css', import.meta.url))] }),
  ]);
  const jsText = js.outputFiles[0]?.text;
  const cssText = css.outputFiles[0]?.text;
  if (!jsText || !cssText) throw new Error('esbuild produced no output for the spot map');
  built = {
    jsPath: registerAsset('spot-map.js', jsText, 'text/javascript; charset=utf-8'),
    cssPath: registerAsset('spot-map.css', cssText, 'text/css; charset=utf-8'),
    jsBytes: Buffer.byteLength(jsText),
  };
  return built;
}

/** Builds the map's script and stylesheet once (later calls share the first build). */
export function buildMapBundle(): Promise<MapBundle> {
  if (!pending) {
    pending = bundle().catch((err: unknown) => {
      pending = null; // let a later call try again
      throw err;
    });
  }
  return pending;
}

/** The built paths, or null before the first build has finished. */
export function mapBundle(): MapBundle | null {
  return built;
}
