import type { RequestMeta } from '../../../core/auth/service.js';
import { nowIso } from '../../../core/db/index.js';
import { InputError } from '../../../core/errors.js';
import { actorRef } from '../../../core/organizations/index.js';
import type { Actor } from '../../../core/permissions/index.js';
import type { Platform } from '../../../core/platform.js';
import { EditLockService } from './locks.js';
import { PreviewLinkService } from './previews.js';

/** Days a page stays in the trash before the daily job deletes it for good, unless configured. */
export const DEFAULT_TRASH_DAYS = 30;
const TRASH_DAYS_KEY = 'cms.trash_retention_days';

/** How long the trash keeps pages: an installation-wide setting shared by every app node. */
export class TrashSettings {
  constructor(private readonly p: Pick<Platform, 'settings' | 'audit' | 'db'>) {}

  async retentionDays(): Promise<number> {
    const n = Number(await this.p.settings.get(TRASH_DAYS_KEY));
    return Number.isInteger(n) && n >= 1 ? n : DEFAULT_TRASH_DAYS;
  }

  async setRetentionDays(actor: Actor, days: number, meta: RequestMeta): Promise<void> {
    if (!Number.isInteger(days) || days < 1 || days > 3650) throw new InputError({ days: '保存期間は1～3650の日数で入力してください。' });
    const at = nowIso();
    // The setting and its audit entry commit together (SystemSettings.set has no transaction of its own).
    await this.p.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('system_settings')
        .values({ key: TRASH_DAYS_KEY, value: String(days), updated_at: at })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value: String(days), updated_at: at }))
        .execute();
      await this.p.audit.record({ actor: actorRef(actor), ...meta, action: 'cms.trash_settings', targetType: 'system_setting', targetId: TRASH_DAYS_KEY, summary: `ごみ箱の保存期間を ${days} 日にしました` }, tx);
    });
  }
}

export interface HistoryServices {
  locks: EditLockService;
  previews: PreviewLinkService;
  trash: TrashSettings;
}

const services = new WeakMap<Platform, HistoryServices>();

/** The page-lifecycle services of a platform (created once, on first use). */
export function historyOf(p: Platform): HistoryServices {
  let s = services.get(p);
  if (!s) {
    s = { locks: new EditLockService({ db: p.db, audit: p.audit }), previews: new PreviewLinkService({ db: p.db, audit: p.audit }), trash: new TrashSettings(p) };
    services.set(p, s);
  }
  return s;
}
