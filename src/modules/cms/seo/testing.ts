/** Test support for the SEO feature's suites: parsing heads and requests with a chosen Host. */
import { request } from 'node:http';
import { DomUtils, parseDocument } from 'htmlparser2';

type Element = ReturnType<typeof DomUtils.getElementsByTagName>[number];

/** The document's elements of a tag name. */
export function elements(html: string, tag: string): Element[] {
  return DomUtils.getElementsByTagName(tag, parseDocument(html).children, true);
}

/** `<meta property|name=… content=…>` of the head as a map (first occurrence of each). */
export function metaTags(html: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of elements(html, 'meta')) {
    const key = m.attribs.property ?? m.attribs.name;
    if (key && !out.has(key)) out.set(key, m.attribs.content ?? '');
  }
  return out;
}

/** Every `<link rel=…>` href by rel (first occurrence). */
export function links(html: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of elements(html, 'link')) if (l.attribs.rel && !out.has(l.attribs.rel)) out.set(l.attribs.rel, l.attribs.href ?? '');
  return out;
}

/** Every JSON-LD block, parsed (a block that is not JSON fails the test that reads it). */
export function jsonLd(html: string): Array<Record<string, unknown>> {
  return elements(html, 'script')
    .filter((s) => s.attribs.type === 'application/ld+json')
    .map((s) => JSON.parse(DomUtils.textContent(s)) as Record<string, unknown>);
}

/** GET with a chosen Host header (fetch does not let one set it). */
export function getWithHost(baseUrl: string, path: string, host: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Record<string, string | string[] | undefined> }> {
  const u = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ hostname: u.hostname, port: u.port, path: u.pathname + u.search, method: 'GET', headers: { ...headers, host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The nonce a response's CSP allows. */
export function cspNonce(csp: string | null | undefined): string | undefined {
  return /'nonce-([^']+)'/.exec(csp ?? '')?.[1];
}

/** One directive's sources from a CSP header. */
export function cspDirective(csp: string | null | undefined, name: string): string[] {
  const d = (csp ?? '').split(';').map((x) => x.trim()).find((x) => x.startsWith(`${name} `));
  return d ? d.split(/\s+/).slice(1) : [];
}
