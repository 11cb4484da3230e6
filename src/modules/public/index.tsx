import { defineModule } from '../../core/module.js';
import { PublicLayout } from '../../core/ui/layout.js';
import { viewOf } from '../../core/ui/view.js';
import { registerMessages } from '../../core/i18n/index.js';

registerMessages({
  ja: {
    'public.siteName': 'あおば市 くらしの窓口',
    'public.lead': 'あおば市の暮らし・防災・健康の情報と、オンライン手続きの入口です。',
    'public.services': 'オンラインサービス',
    'public.staff': '職員の方はこちら（管理画面）',
    'public.footer': 'あおば市役所　〒000-0000 みどり県あおば市中央1-1　電話 000-000-0000（平日 8:30～17:15）',
  },
  en: {
    'public.siteName': 'Aoba City Online Counter',
    'public.lead': 'Living, safety and health information from Aoba City, and the way in to online services.',
    'public.services': 'Online services',
    'public.staff': 'Staff login (admin console)',
    'public.footer': 'Aoba City Hall, 1-1 Chuo, Aoba, Midori Prefecture. Tel 000-000-0000 (weekdays 8:30–17:15)',
  },
});

/**
 * The public shell until the CMS serves the sites: a top page in the resident-facing frame,
 * so every template of the public side has a real page to be tested on.
 */
export const publicModule = defineModule({
  name: 'public',
  routes(app) {
    app.get('/', (c) => {
      const v = viewOf(c);
      const t = v.t;
      return c.html(
        <PublicLayout v={v} title="" siteName={t('public.siteName')} footer={<p>{t('public.footer')}</p>}>
          <section class="hero" aria-labelledby="hero-title">
            <h1 id="hero-title">{t('public.siteName')}</h1>
            <p>{t('public.lead')}</p>
          </section>
          <h2>{t('public.services')}</h2>
          <ul>
            <li>
              <a href="/admin">{t('public.staff')}</a>
            </li>
          </ul>
        </PublicLayout>,
      );
    });
    app.get('/robots.txt', (c) => c.text('User-agent: *\nDisallow: /admin\n'));
  },
});
