import { z } from 'zod';
import type { AuditService } from '../../../core/audit/index.js';
import type { RequestMeta } from '../../../core/auth/service.js';
import { nowIso, type Db } from '../../../core/db/index.js';
import { InputError, NotFoundError } from '../../../core/errors.js';
import { fieldErrors } from '../../../core/http/validate.js';
import { actorRef } from '../../../core/organizations/index.js';
import type { Actor } from '../../../core/permissions/index.js';
import type { Platform } from '../../../core/platform.js';
import './schema.js';

/** How residents reach a department (担当課): shown under every page it is in charge of. */
export interface DepartmentContact {
  organizationId: number;
  /** The organisation's name, or the display name staff set (e.g. 「市民課 市民係」). */
  name: string;
  phone: string;
  fax: string;
  email: string;
  address: string;
  hours: string;
}

const phone = (label: string) =>
  z
    .string()
    .trim()
    .transform((s) => s.normalize('NFKC'))
    .pipe(z.string().regex(/^$|^[0-9()\- ]{6,20}(\s*[（(][^)）]{1,20}[)）])?$/, `${label}は数字とハイフンで入力してください（例: 043-123-4567）。`));

export const contactInput = z.object({
  displayName: z.string().trim().max(100, '表示名は100文字以内で入力してください。').default(''),
  phone: phone('電話番号').default(''),
  fax: phone('FAX番号').default(''),
  email: z
    .string()
    .trim()
    .max(200)
    .regex(/^$|^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/, 'メールアドレスの形式が正しくありません（例: shimin@city.example.lg.jp）。')
    .default(''),
  address: z.string().trim().max(200, '所在地は200文字以内で入力してください。').default(''),
  hours: z.string().trim().max(200, '受付時間は200文字以内で入力してください。').default(''),
});
export type ContactInput = z.input<typeof contactInput>;

/** Contact details per organisation for the CMS (the 「このページに関するお問い合わせ」 block). */
export class DepartmentContactService {
  constructor(private readonly deps: { db: Db; audit: AuditService }) {}

  /** The department's contact, with the organisation's name; undefined when the organisation does not exist. */
  async get(organizationId: number): Promise<DepartmentContact | undefined> {
    const row = await this.deps.db
      .selectFrom('organizations as o')
      .leftJoin('cms_department_contacts as c', 'c.organization_id', 'o.id')
      .select(['o.id', 'o.name', 'c.display_name', 'c.phone', 'c.fax', 'c.email', 'c.address', 'c.hours'])
      .where('o.id', '=', organizationId)
      .executeTakeFirst();
    if (!row) return undefined;
    return { organizationId: row.id, name: row.display_name || row.name, phone: row.phone ?? '', fax: row.fax ?? '', email: row.email ?? '', address: row.address ?? '', hours: row.hours ?? '' };
  }

  /** Stored contact fields as entered (display name empty when the organisation's name is used). */
  async stored(organizationId: number): Promise<ContactInput | undefined> {
    const r = await this.deps.db.selectFrom('cms_department_contacts').selectAll().where('organization_id', '=', organizationId).executeTakeFirst();
    return r ? { displayName: r.display_name, phone: r.phone, fax: r.fax, email: r.email, address: r.address, hours: r.hours } : undefined;
  }

  /** Organisation ids that have contact details. */
  async withContacts(): Promise<Set<number>> {
    const rows = await this.deps.db.selectFrom('cms_department_contacts').select('organization_id').execute();
    return new Set(rows.map((r) => r.organization_id));
  }

  async save(actor: Actor | null, organizationId: number, input: ContactInput, meta: RequestMeta): Promise<void> {
    const r = contactInput.safeParse(input);
    if (!r.success) throw new InputError(fieldErrors(r.error));
    const d = r.data;
    const org = await this.deps.db.selectFrom('organizations').select(['id', 'name']).where('id', '=', organizationId).executeTakeFirst();
    if (!org) throw new NotFoundError();
    const row = { display_name: d.displayName, phone: d.phone, fax: d.fax, email: d.email, address: d.address, hours: d.hours, updated_at: nowIso() };
    await this.deps.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('cms_department_contacts')
        .values({ organization_id: organizationId, ...row })
        .onConflict((oc) => oc.column('organization_id').doUpdateSet(row))
        .execute();
      await this.deps.audit.record(
        { actor: actor ? actorRef(actor) : null, organizationId, ...meta, action: 'cms.contact_update', targetType: 'organization', targetId: organizationId, summary: `「${org.name}」の問い合わせ先を更新しました`, details: d },
        tx,
      );
    });
  }
}

const services = new WeakMap<Platform, DepartmentContactService>();

/** The department contact service of a platform (created once). */
export function contactsOf(p: Platform): DepartmentContactService {
  let s = services.get(p);
  if (!s) {
    s = new DepartmentContactService({ db: p.db, audit: p.audit });
    services.set(p, s);
  }
  return s;
}
