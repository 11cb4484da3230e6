import type { Context, Hono } from 'hono';
import type { AppEnv } from '../../core/http/types.js';
import type { Platform } from '../../core/platform.js';
import { requestMeta } from '../../core/http/app.js';
import { readForm, str, list, type FormValues } from '../../core/http/validate.js';
import { AdminLayout } from '../../core/ui/layout.js';
import { viewOf, formatDateTime, type View } from '../../core/ui/view.js';
import { Csrf, ErrorSummary, Notice, TextField, SelectField, CheckboxGroup, Pagination, TextArea, Checkbox, type FieldErrors } from '../../core/ui/forms.js';
import { InputError, NotFoundError, ForbiddenError } from '../../core/errors.js';
import { renderError } from '../../core/http/errors.js';
import { CORE_PERMISSIONS as P } from '../../core/core-module.js';
import { actorOf, paging, requirePermission } from './guards.js';
import type { UserListFilter } from '../../core/auth/users.js';
import { ORGANIZATION_KINDS, type OrganizationNode } from '../../core/organizations/index.js';
import { orgKindLabel, roleDescription, roleLabel } from './messages.js';

function userLabels(v: View): Record<string, string> {
  return {
    loginId: v.t('admin.users.field.loginId'),
    displayName: v.t('admin.users.field.displayName'),
    email: v.t('admin.users.field.email'),
    organizationId: v.t('admin.users.field.organizationId'),
    roles: v.t('admin.users.field.roles'),
    password: v.t('admin.users.field.password'),
  };
}

function orgOptions(v: View, orgs: OrganizationNode[]) {
  return orgs.map((o) => ({ value: o.id, label: v.t('admin.orgOption', { name: o.name, code: o.code }) }));
}

function userStatus(v: View, u: { status: string; locked_at: string | null }) {
  if (u.locked_at) return <span class="status status--bad">{v.t('admin.status.locked')}</span>;
  if (u.status === 'disabled') return <span class="status status--muted">{v.t('admin.status.disabled')}</span>;
  return <span class="status status--good">{v.t('admin.status.active')}</span>;
}

/** User, role and organisation management (C-3-19, C-2-4, H-08). */
export function mountUserRoutes(app: Hono<AppEnv>, p: Platform) {
  app.use('/admin/users', requirePermission(P.usersManage));
  app.use('/admin/users/*', requirePermission(P.usersManage));

  app.get('/admin/users', async (c) => {
    const v = viewOf(c);
    const actor = actorOf(c);
    const page = paging(c);
    const status = c.req.query('status');
    const filter: UserListFilter = {
      q: c.req.query('q')?.trim().slice(0, 100) || undefined,
      status: status === 'active' || status === 'disabled' || status === 'locked' ? (status as UserListFilter['status']) : undefined,
      role: c.req.query('role') || undefined,
    };
    const { rows, total } = await p.users.list(actor, filter, page);
    const roles = p.permissions.roles();
    const q = new URLSearchParams({ ...(filter.q ? { q: filter.q } : {}), ...(filter.status ? { status: filter.status } : {}), ...(filter.role ? { role: filter.role } : {}) });
    return c.html(
      <AdminLayout v={v} title={v.t('admin.users.title')} menu={p.menu}>
        {c.req.query('saved') ? <Notice kind="success"><p>{v.t('common.saved')}</p></Notice> : null}
        <p><a class="button" href="/admin/users/new">{v.t('admin.users.add')}</a></p>
        <form method="get" action="/admin/users" class="filters" role="search">
          <TextField v={v} name="q" type="search" label={v.t('admin.users.search')} value={filter.q ?? ''} />
          <SelectField v={v} name="status" label={v.t('admin.status')} value={filter.status ?? ''} emptyLabel={v.t('admin.all')} options={[{ value: 'active', label: v.t('admin.status.active') }, { value: 'disabled', label: v.t('admin.status.disabled') }, { value: 'locked', label: v.t('admin.status.locked') }]} />
          <SelectField v={v} name="role" label={v.t('admin.users.role')} value={filter.role ?? ''} emptyLabel={v.t('admin.all')} options={roles.map((r) => ({ value: r.key, label: roleLabel(v, r) }))} />
          <div class="field"><button type="submit">{v.t('common.filter')}</button></div>
        </form>
        <div class="table-wrap">
          <table>
            <caption>{v.t('admin.users.caption', { total })}</caption>
            <thead>
              <tr><th scope="col">{v.t('admin.users.col.loginId')}</th><th scope="col">{v.t('admin.users.col.displayName')}</th><th scope="col">{v.t('admin.users.col.organization')}</th><th scope="col">{v.t('admin.users.col.roles')}</th><th scope="col">{v.t('admin.users.col.status')}</th><th scope="col">{v.t('admin.users.col.totp')}</th><th scope="col">{v.t('admin.users.col.lastLogin')}</th></tr>
            </thead>
            <tbody>
              {rows.map((u) => (
                <tr>
                  <td><a href={`/admin/users/${u.id}`}>{u.login_id}</a></td>
                  <td>{u.display_name}</td>
                  <td>{u.organization_name ?? '—'}</td>
                  <td>{u.roles.map((r) => roleLabel(v, p.permissions.role(r), r)).join(v.t('admin.listSeparator'))}</td>
                  <td>{userStatus(v, u)}</td>
                  <td>{u.totp_enabled ? v.t('admin.enabled') : '—'}</td>
                  <td>{formatDateTime(u.last_login_at, v.locale)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <Pagination v={v} total={total} limit={page.limit} offset={page.offset} baseQuery={q} />
      </AdminLayout>,
    );
  });

  const userForm = async (c: Context<AppEnv>, opts: { id?: number; values: FormValues; errors?: FieldErrors; initialPassword?: string | null; user?: Awaited<ReturnType<typeof p.users.get>> }) => {
    const v = viewOf(c);
    const actor = actorOf(c);
    const orgs = await p.organizations.visibleTo(actor);
    const grantable = p.users.grantableRoles(actor);
    const editing = opts.id !== undefined;
    const u = opts.user;
    const USER_LABELS = userLabels(v);
    return (
      <AdminLayout v={v} title={editing ? v.t('admin.users.editTitle', { loginId: u?.login_id ?? '' }) : v.t('admin.users.newTitle')} menu={p.menu}>
        {opts.initialPassword ? (
          <Notice kind="success">
            <p>{v.t('admin.users.created')}</p>
            <p><code data-testid="initial-password">{opts.initialPassword}</code></p>
          </Notice>
        ) : null}
        {c.req.query('saved') ? <Notice kind="success"><p>{v.t('common.saved')}</p></Notice> : null}
        <ErrorSummary v={v} errors={opts.errors} labels={USER_LABELS} />
        {u ? (
          <dl class="meta">
            <dt>{v.t('admin.status')}</dt><dd>{userStatus(v, u)}{u.locked_at ? v.t('admin.users.lockedSince', { at: formatDateTime(u.locked_at, v.locale) }) : ''}</dd>
            <dt>{v.t('admin.users.failedLogins')}</dt><dd>{u.failed_logins}</dd>
            <dt>{v.t('admin.users.totp')}</dt><dd>{u.totp_enabled ? v.t('admin.enabled') : v.t('admin.disabled')}</dd>
            <dt>{v.t('admin.users.lastLogin')}</dt><dd>{formatDateTime(u.last_login_at, v.locale)}</dd>
          </dl>
        ) : null}
        <form method="post" action={editing ? `/admin/users/${opts.id}` : '/admin/users'} class="form" novalidate>
          <Csrf v={v} />
          <TextField v={v} name="loginId" label={USER_LABELS.loginId!} value={str(opts.values.loginId)} required errors={opts.errors} hint={v.t('admin.users.loginIdHint')} autocomplete="off" spellcheck={false} />
          <TextField v={v} name="displayName" label={USER_LABELS.displayName!} value={str(opts.values.displayName)} required errors={opts.errors} autocomplete="off" />
          <TextField v={v} name="email" type="email" label={USER_LABELS.email!} value={str(opts.values.email)} errors={opts.errors} hint={v.t('admin.users.emailHint')} autocomplete="off" />
          <SelectField v={v} name="organizationId" label={USER_LABELS.organizationId!} value={str(opts.values.organizationId)} emptyLabel={v.t('admin.users.noOrganization')} options={orgOptions(v, orgs)} errors={opts.errors} />
          <CheckboxGroup v={v} name="roles" label={USER_LABELS.roles!} values={list(opts.values.roles)} required errors={opts.errors} options={grantable.map((r) => ({ value: r.key, label: roleLabel(v, r), hint: r.description === undefined ? undefined : roleDescription(v, r) }))} />
          <TextField v={v} name="password" type="password" label={editing ? v.t('admin.users.resetPassword') : v.t('admin.users.initialPassword')} errors={opts.errors} autocomplete="new-password" hint={v.t('admin.passwordHint', { min: p.config.PASSWORD_MIN_LENGTH })} />
          <div class="actions">
            <button type="submit">{v.t('common.save')}</button>
            <a href="/admin/users">{v.t('common.back')}</a>
          </div>
        </form>
        {u ? (
          <section aria-labelledby="user-actions">
            <h2 id="user-actions">{v.t('admin.users.actions')}</h2>
            <div class="actions">
              {u.locked_at ? <ActionButton v={v} action={`/admin/users/${u.id}/unlock`} label={v.t('admin.users.unlock')} /> : null}
              {u.totp_enabled ? <ActionButton v={v} action={`/admin/users/${u.id}/reset-2fa`} label={v.t('admin.users.resetTotp')} /> : null}
              {u.status === 'disabled' ? (
                <ActionButton v={v} action={`/admin/users/${u.id}/enable`} label={v.t('admin.users.enable')} />
              ) : (
                <ActionButton v={v} action={`/admin/users/${u.id}/disable`} label={v.t('admin.users.disable')} secondary />
              )}
            </div>
            <form method="post" action={`/admin/users/${u.id}/delete`} class="form">
              <Csrf v={v} />
              <Checkbox name="confirm" label={v.t('admin.users.confirmDelete', { loginId: u.login_id })} />
              <button type="submit" class="button--danger">{v.t('common.delete')}</button>
            </form>
          </section>
        ) : null}
      </AdminLayout>
    );
  };

  app.get('/admin/users/new', async (c) => c.html(await userForm(c, { values: { roles: ['editor'] } })));

  app.post('/admin/users', async (c) => {
    const values = await readForm(c);
    try {
      const { id, initialPassword } = await p.users.create(actorOf(c), values as never, requestMeta(c));
      if (initialPassword) {
        const user = await p.users.get(actorOf(c), id);
        return c.html(await userForm(c, { id, values: userValues(user), initialPassword, user }), 201);
      }
      return c.redirect(`/admin/users/${id}?saved=1`, 303);
    } catch (e) {
      if (e instanceof InputError) return c.html(await userForm(c, { values, errors: e.fields }), 422);
      throw e;
    }
  });

  const loadUser = async (c: Context<AppEnv>) => {
    const id = Number(c.req.param('id'));
    if (!Number.isInteger(id) || id <= 0) throw new NotFoundError();
    return p.users.get(actorOf(c), id);
  };

  app.get('/admin/users/:id{[0-9]+}', async (c) => {
    try {
      const user = await loadUser(c);
      return c.html(await userForm(c, { id: user.id, values: userValues(user), user }));
    } catch (e) {
      if (e instanceof NotFoundError) return renderError(c, 404, 'error.notFound');
      throw e;
    }
  });

  app.post('/admin/users/:id{[0-9]+}', async (c) => {
    let user;
    try {
      user = await loadUser(c);
    } catch (e) {
      if (e instanceof NotFoundError) return renderError(c, 404, 'error.notFound');
      throw e;
    }
    const values = await readForm(c);
    try {
      await p.users.update(actorOf(c), user.id, values as never, requestMeta(c));
      return c.redirect(`/admin/users/${user.id}?saved=1`, 303);
    } catch (e) {
      if (e instanceof InputError) return c.html(await userForm(c, { id: user.id, values, errors: e.fields, user }), 422);
      throw e;
    }
  });

  const action = (path: string, run: (actor: ReturnType<typeof actorOf>, id: number, meta: ReturnType<typeof requestMeta>) => Promise<void>, needsConfirm = false) => {
    app.post(`/admin/users/:id{[0-9]+}/${path}`, async (c) => {
      try {
        const user = await loadUser(c);
        if (needsConfirm) {
          const form = await readForm(c);
          if (str(form.confirm) !== '1') {
            return c.html(await userForm(c, { id: user.id, values: userValues(user), user, errors: { confirm: c.get('t')('admin.users.confirmRequired') } }), 422);
          }
        }
        await run(actorOf(c), user.id, requestMeta(c));
        return c.redirect(needsConfirm ? '/admin/users?saved=1' : `/admin/users/${user.id}?saved=1`, 303);
      } catch (e) {
        if (e instanceof NotFoundError) return renderError(c, 404, 'error.notFound');
        if (e instanceof ForbiddenError) return renderError(c, 403, 'error.forbidden');
        throw e;
      }
    });
  };
  action('unlock', (a, id, m) => p.users.unlock(a, id, m));
  action('disable', (a, id, m) => p.users.disable(a, id, m));
  action('enable', (a, id, m) => p.users.enable(a, id, m));
  action('reset-2fa', (a, id, m) => p.users.resetTotp(a, id, m));
  action('delete', (a, id, m) => p.users.delete(a, id, m), true);

  // Roles: what each grants, plus the per-role 2-step and IP rules.
  app.use('/admin/roles', requirePermission(P.rolesManage));
  app.use('/admin/roles/*', requirePermission(P.rolesManage));
  const rolesPage = async (c: Context<AppEnv>, errors?: { role: string; fields: FieldErrors; values: FormValues }) => {
    const v = viewOf(c);
    const roles = await p.users.roleOverview();
    const permLabel = new Map(p.permissions.permissions().map((x) => [x.key, v.locale === 'en' ? x.labelEn ?? x.label : x.label]));
    return (
      <AdminLayout v={v} title={v.t('admin.roles.title')} menu={p.menu}>
        {c.req.query('saved') ? <Notice kind="success"><p>{v.t('common.saved')}</p></Notice> : null}
        <p>{v.t('admin.roles.intro')}</p>
        {roles.map((r) => {
          const err = errors?.role === r.key ? errors : undefined;
          return (
            <section aria-labelledby={`role-${r.key}`} class="card">
              <h2 id={`role-${r.key}`}>{v.t('admin.roles.heading', { label: (v.locale === 'en' ? r.labelEn ?? r.label : r.label) ?? '', key: r.key })}</h2>
              <p>{v.t('admin.roles.summary', { description: roleDescription(v, r), users: r.users, scope: r.scope === 'all' ? v.t('admin.roles.scope.all') : v.t('admin.roles.scope.organization') })}</p>
              <details>
                <summary>{v.t('admin.roles.permissions', { count: r.permissionList.length })}</summary>
                <ul>{r.permissionList.map((k) => <li>{permLabel.get(k) ?? k}</li>)}</ul>
              </details>
              <ErrorSummary v={v} errors={err?.fields} labels={{ ipAllowlist: v.t('admin.roles.ipAllowlistShort') }} idPrefix={r.key} />
              <form method="post" action={`/admin/roles/${r.key}`} class="form">
                <Csrf v={v} />
                <Checkbox name="requireTotp" idPrefix={r.key} label={v.t('admin.roles.requireTotp')} checked={err ? str(err.values.requireTotp) === '1' : r.requireTotp} />
                <TextArea v={v} name="ipAllowlist" idPrefix={r.key} label={v.t('admin.roles.ipAllowlist')} value={err ? str(err.values.ipAllowlist) : r.ipAllowlist} rows={2} errors={err?.fields} hint={v.t('admin.roles.ipAllowlistHint')} />
                <button type="submit" class="button--small">{v.t('admin.roles.save', { label: (v.locale === 'en' ? r.labelEn ?? r.label : r.label) ?? '', key: r.key })}</button>
              </form>
            </section>
          );
        })}
      </AdminLayout>
    );
  };
  app.get('/admin/roles', async (c) => c.html(await rolesPage(c)));
  app.post('/admin/roles/:role', async (c) => {
    const role = c.req.param('role');
    const values = await readForm(c);
    try {
      await p.users.updateRoleSettings(actorOf(c), role, { requireTotp: str(values.requireTotp) === '1', ipAllowlist: str(values.ipAllowlist) }, requestMeta(c));
      return c.redirect('/admin/roles?saved=1', 303);
    } catch (e) {
      if (e instanceof InputError) return c.html(await rolesPage(c, { role, fields: e.fields, values }), 422);
      if (e instanceof NotFoundError) return renderError(c, 404, 'error.notFound');
      throw e;
    }
  });

  // Organisations
  app.use('/admin/organizations', requirePermission(P.organizationsManage));
  app.use('/admin/organizations/*', requirePermission(P.organizationsManage));
  const orgsPage = async (c: Context<AppEnv>, opts: { editId?: number; values?: FormValues; errors?: FieldErrors } = {}) => {
    const v = viewOf(c);
    const orgLabels = { code: v.t('admin.orgs.field.code'), name: v.t('admin.orgs.field.name'), nameEn: v.t('admin.orgs.field.nameEn'), kind: v.t('admin.orgs.field.kind'), parentId: v.t('admin.orgs.field.parentId') };
    const kinds = ORGANIZATION_KINDS.map((k) => ({ value: k.value, label: orgKindLabel(v, k.value, k.label) ?? k.label }));
    const orgs = await p.organizations.visibleTo(actorOf(c));
    const byId = new Map(orgs.map((o) => [o.id, o]));
    const editing = opts.editId !== undefined ? byId.get(opts.editId) : undefined;
    const values: FormValues = opts.values ?? (editing ? { code: editing.code, name: editing.name, nameEn: editing.nameEn ?? '', kind: editing.kind, parentId: editing.parentId ? String(editing.parentId) : '' } : {});
    return (
      <AdminLayout v={v} title={v.t('admin.orgs.title')} menu={p.menu}>
        {c.req.query('saved') ? <Notice kind="success"><p>{v.t('common.saved')}</p></Notice> : null}
        <div class="table-wrap">
          <table>
            <caption>{v.t('admin.orgs.caption', { total: orgs.length })}</caption>
            <thead><tr><th scope="col">{v.t('admin.orgs.col.code')}</th><th scope="col">{v.t('admin.orgs.col.name')}</th><th scope="col">{v.t('admin.orgs.col.kind')}</th><th scope="col">{v.t('admin.orgs.col.parent')}</th><th scope="col">{v.t('common.actions')}</th></tr></thead>
            <tbody>
              {orgs.map((o) => (
                <tr>
                  <td>{o.code}</td><td>{o.name}</td><td>{kinds.find((k) => k.value === o.kind)?.label}</td>
                  <td>{o.parentId ? byId.get(o.parentId)?.name ?? '—' : '—'}</td>
                  <td><a href={`/admin/organizations/${o.id}`}>{v.t('admin.edit')}<span class="visually-hidden">: {o.name}</span></a></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <h2>{editing ? v.t('admin.orgs.editTitle', { name: editing.name }) : v.t('admin.orgs.addTitle')}</h2>
        <ErrorSummary v={v} errors={opts.errors} labels={orgLabels} />
        <form method="post" action={editing ? `/admin/organizations/${editing.id}` : '/admin/organizations'} class="form" novalidate>
          <Csrf v={v} />
          <TextField v={v} name="code" label={orgLabels.code} value={str(values.code)} required errors={opts.errors} hint={v.t('admin.orgs.codeHint')} />
          <TextField v={v} name="name" label={orgLabels.name} value={str(values.name)} required errors={opts.errors} />
          <TextField v={v} name="nameEn" label={orgLabels.nameEn} value={str(values.nameEn)} errors={opts.errors} />
          <SelectField v={v} name="kind" label={orgLabels.kind} value={str(values.kind)} required options={kinds} errors={opts.errors} emptyLabel={v.t('admin.orgs.choose')} />
          <SelectField v={v} name="parentId" label={orgLabels.parentId} value={str(values.parentId)} options={orgOptions(v, orgs.filter((o) => o.id !== editing?.id))} emptyLabel={v.t('admin.none')} errors={opts.errors} />
          <div class="actions"><button type="submit">{v.t('common.save')}</button></div>
        </form>
      </AdminLayout>
    );
  };
  app.get('/admin/organizations', async (c) => c.html(await orgsPage(c)));
  app.get('/admin/organizations/:id{[0-9]+}', async (c) => {
    const id = Number(c.req.param('id'));
    if (!(await p.organizations.canAccess(actorOf(c), id)) || !(await p.organizations.get(id))) return renderError(c, 404, 'error.notFound');
    return c.html(await orgsPage(c, { editId: id }));
  });
  app.post('/admin/organizations', async (c) => {
    const values = await readForm(c);
    try {
      await p.organizations.create(actorOf(c), values as never, requestMeta(c));
      return c.redirect('/admin/organizations?saved=1', 303);
    } catch (e) {
      if (e instanceof InputError) return c.html(await orgsPage(c, { values, errors: e.fields }), 422);
      throw e;
    }
  });
  app.post('/admin/organizations/:id{[0-9]+}', async (c) => {
    const id = Number(c.req.param('id'));
    if (!(await p.organizations.canAccess(actorOf(c), id))) return renderError(c, 404, 'error.notFound');
    const values = await readForm(c);
    try {
      await p.organizations.update(actorOf(c), id, values as never, requestMeta(c));
      return c.redirect('/admin/organizations?saved=1', 303);
    } catch (e) {
      if (e instanceof InputError) return c.html(await orgsPage(c, { editId: id, values, errors: e.fields }), 422);
      if (e instanceof NotFoundError) return renderError(c, 404, 'error.notFound');
      throw e;
    }
  });
}

function ActionButton(props: { v: View; action: string; label: string; secondary?: boolean }) {
  return (
    <form method="post" action={props.action} class="inline-form">
      <Csrf v={props.v} />
      <button type="submit" class={props.secondary ? 'button--secondary' : undefined}>{props.label}</button>
    </form>
  );
}

function userValues(u: { login_id: string; display_name: string; email: string | null; organization_id: number | null; roles: string[] }): FormValues {
  return { loginId: u.login_id, displayName: u.display_name, email: u.email ?? '', organizationId: u.organization_id ? String(u.organization_id) : '', roles: u.roles };
}
