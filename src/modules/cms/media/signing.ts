import { createHmac, timingSafeEqual } from 'node:crypto';

/** How long a signed address from a preview stays valid. */
const LIFETIME_SECONDS = 3600;

/**
 * Signed addresses for files of pages not public yet, used only in previews (staff previews and
 * the preview links shown to people who are not signed in): `?exp=<unix seconds>&sig=<HMAC>`.
 */
export class MediaUrlSigner {
  constructor(private readonly secret: string) {}

  private sig(id: number, exp: number): string {
    return createHmac('sha256', this.secret).update(`cms-media|${id}|${exp}`).digest('base64url').slice(0, 32);
  }

  /** The query to append; the expiry is rounded up to ten minutes so re-rendered previews reuse cached files. */
  query(id: number, now = Date.now()): string {
    const exp = Math.ceil((now / 1000 + LIFETIME_SECONDS) / 600) * 600;
    return `?exp=${exp}&sig=${this.sig(id, exp)}`;
  }

  valid(id: number, exp: string | undefined, sig: string | undefined, now = Date.now()): boolean {
    if (!exp || !sig || !/^\d{1,12}$/.test(exp)) return false;
    const at = Number(exp);
    if (at * 1000 < now || at * 1000 > now + (LIFETIME_SECONDS + 600) * 1000) return false;
    const expected = Buffer.from(this.sig(id, at));
    const given = Buffer.from(sig);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
