import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

function scrypt(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

const KEY_LENGTH = 32;

/**
 * Hashes a password with scrypt (N = 2^logN, r = 8, p = 1). The parameters travel inside the hash,
 * so raising the cost later keeps old hashes verifiable.
 * @example const stored = await hashPassword('correct horse battery staple')
 */
export async function hashPassword(password: string, logN = 15): Promise<string> {
  const salt = randomBytes(16);
  const N = 2 ** logN;
  const key = await scrypt(password.normalize('NFC'), salt, KEY_LENGTH, { N, r: 8, p: 1, maxmem: 256 * N * 8 });
  return `scrypt$${logN}$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Constant-time check of a password against a stored hash; false for malformed hashes. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, logNText, rText, pText, saltText, keyText] = parts as [string, string, string, string, string, string];
  const N = 2 ** Number(logNText);
  const r = Number(rText);
  const p = Number(pText);
  const expected = Buffer.from(keyText, 'base64url');
  const actual = await scrypt(password.normalize('NFC'), Buffer.from(saltText, 'base64url'), expected.length, { N, r, p, maxmem: 256 * N * r });
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** A hash of nothing in particular, verified when the login ID is unknown so timing reveals nothing. */
export const DUMMY_HASH = 'scrypt$15$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

const COMMON = new Set(['password', 'password1', 'passw0rd', '12345678', '123456789', '1234567890', 'qwertyuiop', 'administrator', 'machimado']);

/**
 * The password rule staff are told about: length, not the login ID, not a well-known password,
 * and at least two kinds of character (letters, digits, symbols).
 * @returns a Japanese message, or null when the password is acceptable
 */
export function passwordProblem(password: string, opts: { minLength: number; loginId?: string }): string | null {
  if (password.length < opts.minLength) return `パスワードは${opts.minLength}文字以上で入力してください。`;
  if (password.length > 256) return 'パスワードは256文字以内で入力してください。';
  if (opts.loginId && password.toLowerCase().includes(opts.loginId.toLowerCase())) return 'パスワードにログインIDを含めないでください。';
  if (COMMON.has(password.toLowerCase())) return 'よく使われるパスワードは使えません。';
  const kinds = [/[a-zA-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((re) => re.test(password)).length;
  if (kinds < 2) return 'パスワードには英字・数字・記号のうち2種類以上を含めてください。';
  return null;
}

/** A readable one-time password for new accounts (no look-alike characters). */
export function generateInitialPassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(14);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return `${out.slice(0, 5)}-${out.slice(5, 10)}-${out.slice(10)}7`;
}
