import type { Logger } from '../log.js';
import type { Actor } from '../permissions/index.js';
import type { Locale, Translator } from '../i18n/index.js';

export interface SessionInfo {
  /** The cookie token (never stored; the database keeps its hash). */
  token: string;
  id: string;
  userId: number;
  stage: 'active' | 'pending_totp';
  createdAt: string;
}

/** Per-request values every handler can read with c.get(). */
export type AppEnv = {
  Variables: {
    requestId: string;
    /** The installation's public URL (BASE_URL): absolute links never trust the Host header. */
    baseUrl: string;
    log: Logger;
    /** Nonce for the Content-Security-Policy; put on every inline <script>. */
    nonce: string;
    /** The client's address after trusted-proxy resolution. */
    clientIp: string;
    session: SessionInfo | null;
    actor: Actor | null;
    locale: Locale;
    t: Translator;
    /** CSRF token for forms; creating it may set the anonymous cookie, so it is lazy. */
    csrfToken: () => string;
    /**
     * Extra origins this response may load from, added to the CSP's script-src, connect-src and
     * img-src (a site's own analytics or logo host). Unset for almost every response.
     */
    cspSources?: { script?: string[]; connect?: string[]; img?: string[] };
    /** A planned maintenance announced now (set by the maintenance module; PublicLayout shows it). */
    maintenanceNotice?: { title: string; body: string; startsAt: string; endsAt: string } | null;
  };
};
