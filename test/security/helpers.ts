/**
 * Small helpers shared by the attack tests in this folder (IPA「安全なウェブサイトの作り方」).
 */
import { request as httpRequest } from 'node:http';
import type { Platform } from '../../src/core/platform.js';
import { HttpClient } from '../helpers/http-client.js';
import { createStaff } from '../helpers/platform.js';

export const XSS_SCRIPT = '<script>alert(1)</script>';
export const XSS_IMG = '"><img src=x onerror=alert(1)>';

/** Signs a new staff member in and returns the client (on the dashboard, CSRF token loaded). */
export async function signedIn(baseUrl: string, p: Platform, input: Parameters<typeof createStaff>[1] = {}) {
  const staff = await createStaff(p, input);
  const client = new HttpClient(baseUrl);
  const res = await client.login(staff.loginId, staff.password);
  if (res.status !== 303) throw new Error(`login of ${staff.loginId} failed: ${res.status}`);
  await client.get('/admin');
  return { client, staff };
}

const TABLES = [
  'users',
  'user_roles',
  'organizations',
  'role_settings',
  'recovery_codes',
  'sessions',
  'password_resets',
  'audit_log',
  'jobs',
  'mail_messages',
  'closed_days',
  'system_settings',
] as const;

/** Row counts of every table the admin screens can write to (proves "nothing was written"). */
export async function tableCounts(p: Platform): Promise<Record<(typeof TABLES)[number], number>> {
  const out = {} as Record<(typeof TABLES)[number], number>;
  for (const t of TABLES) {
    const row = await p.db
      .selectFrom(t)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    out[t] = Number(row.n);
  }
  return out;
}

/** The users and organisations as stored, to compare before/after an attack. */
export async function identitySnapshot(p: Platform) {
  const users = await p.db.selectFrom('users').select(['id', 'login_id', 'display_name', 'email', 'organization_id', 'status', 'locked_at', 'password_hash']).orderBy('id').execute();
  const roles = await p.db.selectFrom('user_roles').selectAll().orderBy('user_id').orderBy('role').execute();
  const orgs = await p.db.selectFrom('organizations').select(['id', 'code', 'name', 'parent_id']).orderBy('id').execute();
  return { users, roles, orgs };
}

/**
 * A GET with the request target sent byte-for-byte (fetch would normalise `..` and `%2e`).
 */
export function rawGet(baseUrl: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  const u = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, method: 'GET', path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** True when a Location header, resolved as a browser would, stays on `origin`. */
export function staysOnSite(location: string | null, origin = 'http://city.example'): boolean {
  if (location === null) return false;
  const resolved = new URL(location, `${origin}/some/page`);
  return resolved.origin === origin;
}

/**
 * A POST over node:http that still reports the response when the server answers early and
 * closes the connection while the body is being sent (as it should for a 413).
 */
export function rawPost(baseUrl: string, path: string, body: Buffer | string, headers: Record<string, string>, opts: { chunked?: boolean } = {}): Promise<{ status: number; body: string }> {
  const u = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    let answered = false;
    const lengthHeader: Record<string, string> = opts.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(Buffer.byteLength(body)) };
    const req = httpRequest({ host: u.hostname, port: u.port, method: 'POST', path, agent: false, headers: { ...lengthHeader, ...headers } }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    if (!opts.chunked) return void req.end(body);
    const buf = Buffer.from(body);
    let i = 0;
    const pump = () => {
      while (i < buf.length) {
        const more = req.write(buf.subarray(i, (i += 64 * 1024)));
        if (!more) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}
