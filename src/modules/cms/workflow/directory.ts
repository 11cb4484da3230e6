import type { Db } from '../../../core/db/index.js';
import type { OrganizationNode, OrganizationService } from '../../../core/organizations/index.js';
import type { Actor, PermissionRegistry } from '../../../core/permissions/index.js';

/** A staff account as the workflow needs it: who they are, what they may do, where. */
export interface StaffMember {
  id: number;
  loginId: string;
  displayName: string;
  email: string | null;
  organizationId: number | null;
  permissions: ReadonlySet<string>;
  allOrganizations: boolean;
}

/** The organisation tree, read once, answering "who may reach what" without more queries. */
export class OrgTree {
  private readonly byId: Map<number, OrganizationNode>;

  constructor(readonly all: OrganizationNode[]) {
    this.byId = new Map(all.map((o) => [o.id, o]));
  }

  get(id: number | null): OrganizationNode | undefined {
    return id === null ? undefined : this.byId.get(id);
  }

  /** The organisation and those above it, nearest first. */
  chain(id: number | null): number[] {
    const out: number[] = [];
    for (let o = this.get(id); o && !out.includes(o.id); o = this.get(o.parentId)) out.push(o.id);
    return out;
  }

  /** May someone scoped like this act on data of `orgId`? (Same rule as OrganizationService.canAccess.) */
  reaches(who: Pick<Actor, 'allOrganizations' | 'organizationId'>, orgId: number | null): boolean {
    if (who.allOrganizations) return true;
    if (orgId === null || who.organizationId === null) return false;
    return this.chain(orgId).includes(who.organizationId);
  }
}

export async function orgTree(organizations: OrganizationService): Promise<OrgTree> {
  return new OrgTree(await organizations.all());
}

/** Every active staff account (a lock after failed logins is temporary, so locked ones count) with the permissions its roles give. */
export async function activeStaff(db: Db, permissions: PermissionRegistry, ids?: number[]): Promise<StaffMember[]> {
  if (ids && !ids.length) return [];
  let q = db.selectFrom('users').select(['id', 'login_id', 'display_name', 'email', 'organization_id']).where('status', '=', 'active');
  if (ids) q = q.where('id', 'in', ids);
  const users = await q.orderBy('display_name').orderBy('id').execute();
  if (!users.length) return [];
  const roles = await db.selectFrom('user_roles').select(['user_id', 'role']).where('user_id', 'in', users.map((u) => u.id)).execute();
  return users.map((u) => {
    const mine = roles.filter((r) => r.user_id === u.id).map((r) => r.role);
    return {
      id: u.id,
      loginId: u.login_id,
      displayName: u.display_name,
      email: u.email || null,
      organizationId: u.organization_id,
      permissions: permissions.permissionsOf(mine),
      allOrganizations: permissions.seesAllOrganizations(mine),
    };
  });
}
