import { parseArgs } from '../../../cli/args.js';
import type { CliCommand } from '../../../core/module.js';
import type { CmsFeature } from '../parts.js';
import { MANIFEST_FILE, StaticExportError, exportStaticSite } from './static-export.js';

const USAGE = 'export-static --site KEY DIR [--base-url https://www.city.example.lg.jp] [--live-url URL] [--search-url URL]';
const FLAGS = new Set(['site', 'base-url', 'live-url', 'search-url']);

/** Exit codes of sysexits.h, which operators' scripts already know. */
const EX_USAGE = 64;

const exportStaticCommand: CliCommand = {
  name: 'export-static',
  summary: 'サイトを静的なHTMLとして書き出す / write a static copy of a site',
  usage: USAGE,
  needsDatabase: true,
  async run(p, args) {
    const { flags, positional } = parseArgs(args);
    const unknown = Object.keys(flags).filter((f) => !FLAGS.has(f));
    const siteKey = flags.site;
    const dir = positional[0];
    if (unknown.length || typeof siteKey !== 'string' || !dir || positional.length > 1 || ['base-url', 'live-url', 'search-url'].some((f) => flags[f] === true)) {
      if (unknown.length) console.error(`不明なオプションです / unknown option: ${unknown.map((f) => `--${f}`).join(', ')}`);
      else if (typeof siteKey !== 'string') console.error('--site でサイトキーを指定してください / --site KEY is required');
      else if (!dir) console.error('書き出し先のディレクトリを指定してください / the output DIR is required');
      else console.error('引数が正しくありません / invalid arguments');
      console.error(`usage: machimado ${USAGE}`);
      return EX_USAGE;
    }
    // Loaded here: the CMS module imports this feature, so a static import would be circular.
    const { cmsOf } = await import('../index.js');
    const cms = cmsOf(p);
    const tty = process.stderr.isTTY;
    try {
      const r = await exportStaticSite(
        { request: (url, init) => p.app.request(url, init), sites: () => cms.sites.all(), defaultBaseUrl: p.config.BASE_URL },
        {
          siteKey,
          outDir: dir,
          baseUrl: typeof flags['base-url'] === 'string' ? flags['base-url'] : undefined,
          liveUrl: typeof flags['live-url'] === 'string' ? flags['live-url'] : undefined,
          searchUrl: typeof flags['search-url'] === 'string' ? flags['search-url'] : undefined,
          onProgress: ({ done, pending, url }) => {
            if (tty) process.stderr.write(`\r\x1b[Kexport-static: ${done} / ${done + pending}  ${url.slice(0, 60)}`);
            else if (done % 25 === 1 || pending === 0) process.stderr.write(`export-static: ${done} / ${done + pending} ${url}\n`);
          },
        },
      );
      if (tty) process.stderr.write('\n');
      for (const s of r.skipped.slice(0, 20)) process.stderr.write(`  skipped ${s.url}: ${s.reason}${s.from ? ` (linked from ${s.from})` : ''}\n`);
      if (r.skipped.length > 20) process.stderr.write(`  … ${r.skipped.length - 20} more in ${MANIFEST_FILE}\n`);
      console.log(`書き出しました / exported ${r.site.name} (${r.site.key}) → ${r.outDir}`);
      console.log(`pages ${r.pages}, files ${r.files}, bytes ${r.bytes}, seconds ${r.seconds.toFixed(2)}, skipped ${r.skipped.length}; absolute URLs use ${r.baseUrl}`);
      return 0;
    } catch (e) {
      if (tty) process.stderr.write('\n');
      if (e instanceof StaticExportError) {
        console.error(e.message);
        if (e.exitCode === EX_USAGE) console.error(`usage: machimado ${USAGE}`);
        return e.exitCode;
      }
      console.error(`書き出しに失敗しました。書き出し先は変更していません / export failed, the output directory is unchanged: ${(e as Error).message}`);
      return 1;
    }
  },
};

/** Static export of a site (C-3 item 12): `machimado export-static`, see README.md here. */
export const exportFeature: CmsFeature = {
  name: 'cms.export',
  cli: [exportStaticCommand],
};
