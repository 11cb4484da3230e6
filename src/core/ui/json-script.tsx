import { raw } from 'hono/html';

/**
 * JSON for a `<script>` data block (JSON-LD, map markers): `<`, `>`, `&` and the JavaScript line
 * separators U+2028/2029 written as \u escapes, so no text in the data can close the element or
 * open a comment. JSON.parse reads it back unchanged.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Structured data (schema.org JSON-LD) for search engines; a data block, never executed. */
export function JsonLd(props: { data: unknown; nonce?: string }) {
  return <script type="application/ld+json" nonce={props.nonce}>{raw(jsonForScript(props.data))}</script>;
}
