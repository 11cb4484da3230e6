/**
 * A small cookie-keeping HTTP client that behaves like a browser submitting forms: it follows
 * nothing automatically, remembers cookies and the last page's CSRF token.
 */
export class HttpClient {
  readonly cookies = new Map<string, string>();
  lastCsrf = '';
  constructor(readonly baseUrl: string, readonly headers: Record<string, string> = {}) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private remember(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /max-age=0/i.test(a) || /expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(method: string, path: string, init: { body?: BodyInit; headers?: Record<string, string> } = {}): Promise<{ status: number; text: string; headers: Headers; location: string | null }> {
    const res = await fetch(new URL(path, this.baseUrl), {
      method,
      redirect: 'manual',
      headers: { ...this.headers, ...(this.cookies.size ? { cookie: this.cookieHeader() } : {}), ...init.headers },
      body: init.body,
    });
    this.remember(res);
    const text = await res.text();
    const m = /name="_csrf" value="([^"]+)"/.exec(text);
    if (m) this.lastCsrf = m[1]!;
    return { status: res.status, text, headers: res.headers, location: res.headers.get('location') };
  }

  get(path: string, headers?: Record<string, string>) {
    return this.request('GET', path, { headers });
  }

  /** Posts a urlencoded form; the CSRF token of the last page is added unless `_csrf` is given. */
  post(path: string, form: Record<string, string | string[]>, opts: { csrf?: string | null; headers?: Record<string, string> } = {}) {
    const body = new URLSearchParams();
    const csrf = opts.csrf === undefined ? this.lastCsrf : opts.csrf;
    if (csrf !== null) body.set('_csrf', csrf);
    for (const [k, v] of Object.entries(form)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
    return this.request('POST', path, { body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...opts.headers } });
  }

  /** Loads the login page and signs in; returns the final response of the password step. */
  async login(loginId: string, password: string) {
    await this.get('/admin/login');
    return this.post('/admin/login', { loginId, password });
  }
}
