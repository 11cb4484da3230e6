/**
 * OAuth 1.0a request signing with HMAC-SHA1 (RFC 5849 §3.4), as X requires for user-context
 * calls made with an app's consumer key and a user's access token.
 */
import { createHmac, randomBytes } from 'node:crypto';

export interface OAuth1Credentials {
  consumerKey: string;
  consumerSecret: string;
  accessToken: string;
  accessTokenSecret: string;
}

/**
 * RFC 3986 percent-encoding as RFC 5849 §3.6 demands: everything but A–Z a–z 0–9 - . _ ~ is
 * encoded, in UTF-8, with upper-case hex. encodeURIComponent leaves !'()* alone, so those are
 * encoded here too.
 * @example
 * percentEncode('Ladies + Gentlemen!') // 'Ladies%20%2B%20Gentlemen%21'
 */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The base string URI (RFC 5849 §3.4.1.2): scheme and host in lower case, default port dropped,
 * no query or fragment.
 */
function baseStringUri(url: URL): string {
  // URL already lower-cases scheme and host and drops :80 for http and :443 for https.
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/**
 * Builds the signature base string (RFC 5849 §3.4.1). `params` are the decoded oauth_* values
 * and any application/x-www-form-urlencoded body fields; the URL's query is added here. A JSON
 * body is never part of it, which is why X's v2 endpoints sign only the oauth_* values.
 * @example
 * signatureBaseString('POST', 'https://api.x.com/2/tweets', [['oauth_nonce', 'abc'], …])
 */
export function signatureBaseString(method: string, url: string, params: ReadonlyArray<readonly [string, string]>): string {
  const parsed = new URL(url);
  const all: Array<[string, string]> = params.map(([k, v]) => [percentEncode(k), percentEncode(v)]);
  // The query is parsed as form data (RFC 5849 §3.4.1.3.1), so "+" means a space.
  for (const [k, v] of parsed.searchParams) all.push([percentEncode(k), percentEncode(v)]);
  // Sorted by encoded name, then encoded value, as bytes (all ASCII after encoding).
  all.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  const normalized = all.map(([k, v]) => `${k}=${v}`).join('&');
  return [method.toUpperCase(), percentEncode(baseStringUri(parsed)), percentEncode(normalized)].join('&');
}

/**
 * HMAC-SHA1 of the base string keyed with "consumerSecret&tokenSecret", base64 (RFC 5849 §3.4.2).
 * @example
 * hmacSha1Signature(base, 'kAcSOqF2…', 'LswwdoUa…') // 'hCtSmYh+iHYCEqBWrE7C7hYmtUk='
 */
export function hmacSha1Signature(baseString: string, consumerSecret: string, tokenSecret: string): string {
  const key = `${percentEncode(consumerSecret)}&${percentEncode(tokenSecret)}`;
  return createHmac('sha1', key).update(baseString).digest('base64');
}

export interface SignRequestInput {
  method: string;
  url: string;
  credentials: OAuth1Credentials;
  /** Form-encoded body fields (never a JSON body). */
  formParams?: ReadonlyArray<readonly [string, string]>;
  /** Fixed only in tests reproducing a published example; random otherwise. */
  nonce?: string;
  /** Seconds since the epoch. */
  timestamp?: number;
}

export interface SignedRequest {
  /** Value for the Authorization header. */
  authorization: string;
  signature: string;
  baseString: string;
}

/**
 * Signs one request and returns its `Authorization: OAuth …` header.
 * @example
 * const { authorization } = signRequest({ method: 'POST', url: 'https://api.x.com/2/tweets', credentials })
 * await fetch(url, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body })
 */
export function signRequest(input: SignRequestInput): SignedRequest {
  const { credentials } = input;
  const oauth: Array<[string, string]> = [
    ['oauth_consumer_key', credentials.consumerKey],
    // 32 random bytes, letters and digits only, the way X's own examples make the nonce.
    ['oauth_nonce', input.nonce ?? randomBytes(32).toString('base64').replace(/[^A-Za-z0-9]/g, '')],
    ['oauth_signature_method', 'HMAC-SHA1'],
    ['oauth_timestamp', String(input.timestamp ?? Math.floor(Date.now() / 1000))],
    ['oauth_token', credentials.accessToken],
    ['oauth_version', '1.0'],
  ];
  const baseString = signatureBaseString(input.method, input.url, [...oauth, ...(input.formParams ?? [])]);
  const signature = hmacSha1Signature(baseString, credentials.consumerSecret, credentials.accessTokenSecret);
  const fields = [...oauth, ['oauth_signature', signature] as [string, string]].sort(([a], [b]) => (a < b ? -1 : 1));
  const authorization = `OAuth ${fields.map(([k, v]) => `${percentEncode(k)}="${percentEncode(v)}"`).join(', ')}`;
  return { authorization, signature, baseString };
}
