import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** Envelope sender (MAIL FROM). */
  from: string;
  /** Envelope recipients (RCPT TO). */
  to: string[];
  /** The message exactly as received. */
  raw: string;
  /** Subject header with RFC 2047 encoded words decoded. */
  subject: string;
  /** Decoded text/plain body (the first text/plain part of a multipart message). */
  text: string;
  /** Decoded text/html part, when present. */
  html?: string;
  /** Unfolded top-level headers, names in lower case (values still encoded). */
  headers: Record<string, string>;
}

export interface SmtpServerOptions {
  /** Listen on this port instead of a random one (to bring a "down" server back up). */
  port?: number;
  /** Return an error message to refuse a recipient with 550. */
  rejectRcpt?(address: string): string | undefined;
}

export interface TestSmtpServer {
  port: number;
  /** `smtp://127.0.0.1:<port>` for nodemailer. */
  url: string;
  messages: ReceivedMail[];
  /** Resolves with the first (already or later) received message matching `pred`. */
  waitFor(pred: (m: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}

/**
 * A real SMTP server on loopback that keeps every message it receives (no TLS, no auth).
 * @example
 * const smtp = await startSmtpServer()
 * // … send to smtp.url …
 * const mail = await smtp.waitFor((m) => m.to.includes('a@example.com'))
 * await smtp.close()
 */
export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<TestSmtpServer> {
  const messages: ReceivedMail[] = [];
  const waiters: Array<{ pred: (m: ReceivedMail) => boolean; resolve: (m: ReceivedMail) => void }> = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const refusal = options.rejectRcpt?.(address.address);
      if (refusal) {
        const err = new Error(refusal) as Error & { responseCode?: number };
        err.responseCode = 550;
        return callback(err);
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const mail = { ...parseMessage(raw), raw, from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address) };
        messages.push(mail);
        for (const w of [...waiters]) {
          if (w.pred(mail)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(mail);
          }
        }
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = ((server as unknown as { server: { address(): AddressInfo } }).server.address()).port;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    waitFor(pred, timeoutMs = 5000) {
      const found = messages.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(entry), 1);
          reject(new Error(`no matching mail within ${timeoutMs} ms (${messages.length} received)`));
        }, timeoutMs);
        const entry = { pred, resolve: (m: ReceivedMail) => (clearTimeout(timer), resolve(m)) };
        waiters.push(entry);
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Minimal MIME reader: headers, encoded-word subject, single-part or one level of multipart. */
export function parseMessage(raw: string): Pick<ReceivedMail, 'subject' | 'text' | 'html' | 'headers'> {
  const { headers, body } = splitEntity(raw);
  const out: Pick<ReceivedMail, 'subject' | 'text' | 'html' | 'headers'> = { headers, subject: decodeWords(headers['subject'] ?? ''), text: '' };
  for (const part of leafParts(headers, body)) {
    const type = (part.headers['content-type'] ?? 'text/plain').toLowerCase();
    const content = decodeBody(part.body, part.headers['content-transfer-encoding']);
    if (type.startsWith('text/plain') && !out.text) out.text = content;
    else if (type.startsWith('text/html') && out.html === undefined) out.html = content;
  }
  return out;
}

function splitEntity(raw: string): { headers: Record<string, string>; body: string } {
  const idx = raw.indexOf('\r\n\r\n');
  const head = idx < 0 ? raw : raw.slice(0, idx);
  const body = idx < 0 ? '' : raw.slice(idx + 4);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

function leafParts(headers: Record<string, string>, body: string): Array<{ headers: Record<string, string>; body: string }> {
  const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1];
  if (!/^multipart\//i.test(headers['content-type'] ?? '') || !boundary) return [{ headers, body }];
  return body
    .split(`--${boundary}`)
    .slice(1)
    .filter((p) => !p.startsWith('--'))
    .flatMap((p) => {
      const part = splitEntity(p.replace(/^\r\n/, ''));
      return leafParts(part.headers, part.body);
    });
}

function decodeBody(body: string, encoding = '7bit'): string {
  const enc = encoding.toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (enc === 'quoted-printable') return qp(body.replace(/=\r\n/g, '')).replace(/\r\n$/, '');
  return body.replace(/\r\n$/, '');
}

function qp(s: string): string {
  return qpBytes(s).toString('utf8');
}

function qpBytes(s: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const m = s[i] === '=' ? /^[0-9A-F]{2}$/i.exec(s.slice(i + 1, i + 3)) : null;
    if (m) {
      bytes.push(parseInt(m[0], 16));
      i += 2;
    } else bytes.push(...Buffer.from(s[i]!, 'utf8'));
  }
  return Buffer.from(bytes);
}

/**
 * Decodes RFC 2047 `=?UTF-8?B?…?=` / `=?UTF-8?Q?…?=` words; whitespace between words is dropped and
 * bytes are joined before decoding, since an encoder may split one character across two words.
 */
export function decodeWords(value: string): string {
  const bytes: Buffer[] = [];
  const word = /=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g;
  let last = 0;
  for (let m = word.exec(value); m; m = word.exec(value)) {
    const between = value.slice(last, m.index);
    if (!(last > 0 && /^\s*$/.test(between))) bytes.push(Buffer.from(between, 'utf8'));
    const text = m[3] ?? '';
    bytes.push(m[2]!.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : qpBytes(text.replace(/_/g, ' ')));
    last = m.index + m[0].length;
  }
  bytes.push(Buffer.from(value.slice(last), 'utf8'));
  return Buffer.concat(bytes).toString('utf8');
}
