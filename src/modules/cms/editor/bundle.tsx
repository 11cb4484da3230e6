/**
 * Server side of the rich-text editor: bundles client.ts with esbuild once per process, serves
 * the result (and editor.css) under content-hashed /assets/ paths, and renders the field and the
 * script tags. Import as `./bundle.js`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { View } from '../../../core/ui/view.js';
import type { FieldErrors } from '../../../core/ui/forms.js';
import { registerAsset } from '../../../core/ui/assets.js';

export interface EditorBundle {
  jsPath: string;
  cssPath: string;
  /** Size of the minified script in bytes. */
  jsBytes: number;
  /** How long esbuild took, in milliseconds. */
  buildMs: number;
}

let pending: Promise<EditorBundle> | null = null;
let built: EditorBundle | null = null;

async function bundle(): Promise<EditorBundle> {
  const started = performance.now();
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./client.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    write: false,
    legalComments: 'eof',
    logLevel: 'silent',
    // tsconfig's jsx settings are for the server; the client has no JSX.
    tsconfigRaw: { compilerOptions: {} },
  });
  const js = result.outputFiles[0]?.text;
  if (!js) throw new Error('esbuild produced no output for the editor');
  const css = readFileSync(fileURLToPath(new URL('./editor.css', import.meta.url)), 'utf8');
  const jsPath = registerAsset('editor.js', js, 'text/javascript; charset=utf-8');
  const cssPath = registerAsset('editor.css', css, 'text/css; charset=utf-8');
  built = { jsPath, cssPath, jsBytes: Buffer.byteLength(js), buildMs: Math.round(performance.now() - started) };
  return built;
}

/**
 * Builds the editor script once (later calls share the first build) and registers it and the
 * stylesheet as assets. Call it at start-up so the first page with an editor does not wait.
 */
export function buildEditorBundle(): Promise<EditorBundle> {
  if (!pending) {
    pending = bundle().catch((err: unknown) => {
      pending = null; // let a later call try again
      throw err;
    });
  }
  return pending;
}

/** The built paths, or null before buildEditorBundle has finished. */
export function editorBundle(): EditorBundle | null {
  return built;
}

/**
 * The editor's stylesheet and module script (with the request's CSP nonce). Put it in the page's
 * head (PublicLayout's `head`) or anywhere in the body. Async: it waits for the first build.
 */
export async function EditorScripts(props: { v: View }) {
  const b = built ?? (await buildEditorBundle());
  return (
    <>
      <link rel="stylesheet" href={b.cssPath} />
      <script type="module" src={b.jsPath} nonce={props.v.nonce}></script>
    </>
  );
}

const fieldId = (name: string, prefix?: string) => `f-${prefix ? `${prefix}-` : ''}${name}`.replace(/[^a-zA-Z0-9_-]/g, '_');

/**
 * A labelled textarea that the editor script turns into the rich-text editor. Without JavaScript
 * it is an ordinary textarea posting HTML or plain text. Same conventions as TextArea: id
 * f-<name>, hint f-<name>-hint, error f-<name>-error, aria-describedby; the label gets
 * id f-<name>-label, which names the editing area.
 */
export function RichTextField(props: {
  v: View;
  name: string;
  label: string;
  value?: string | null;
  errors?: FieldErrors;
  hint?: string;
  required?: boolean;
  rows?: number;
  idPrefix?: string;
  /** The media library the image and link dialogs offer (the page editor gets it from the media feature's hook instead). */
  media?: { listUrl: string; uploadUrl: string; siteId: number };
}) {
  const id = fieldId(props.name, props.idPrefix);
  const err = props.errors?.[props.name];
  const describedBy = [props.hint ? `${id}-hint` : '', err ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class="field rich-text">
      <label for={id} id={`${id}-label`}>
        {props.label}
        {props.required ? <span class="badge-required">{props.v.t('common.required')}</span> : null}
      </label>
      {props.hint ? <span class="field__hint" id={`${id}-hint`}>{props.hint}</span> : null}
      {err ? <span class="field__error" id={`${id}-error`}>{err}</span> : null}
      <textarea
        id={id}
        name={props.name}
        rows={props.rows ?? 15}
        data-editor="rich"
        required={props.required}
        aria-invalid={err ? 'true' : undefined}
        aria-describedby={describedBy}
        data-media-library={props.media?.listUrl}
        data-media-upload={props.media?.uploadUrl}
        data-media-site={props.media ? String(props.media.siteId) : undefined}
      >
        {props.value ?? ''}
      </textarea>
    </div>
  );
}
