/** A permission a module defines, e.g. `{ key: 'users.manage', label: 'ユーザ管理' }`. */
export interface PermissionDef {
  key: string;
  label: string;
  labelEn?: string;
}

/** A role: a named bundle of permissions. `*` grants everything. */
export interface RoleDef {
  key: string;
  label?: string;
  labelEn?: string;
  description?: string;
  permissions: string[];
  /** 'all' sees every organisation; 'organization' only its own and those below it. */
  scope?: 'all' | 'organization';
}

/** The signed-in staff member as the rest of the platform sees them. */
export interface Actor {
  id: number;
  loginId: string;
  displayName: string;
  organizationId: number | null;
  roles: string[];
  permissions: ReadonlySet<string>;
  /** True when any role sees every organisation. */
  allOrganizations: boolean;
}

/**
 * Roles and permissions, extended by every module at start-up.
 * @example registry.addPermissions([{ key: 'cms.publish', label: '公開' }])
 */
export class PermissionRegistry {
  private readonly perms = new Map<string, PermissionDef>();
  private readonly roleMap = new Map<string, Required<Pick<RoleDef, 'key' | 'permissions' | 'scope'>> & RoleDef>();

  addPermissions(defs: PermissionDef[]): void {
    for (const d of defs) {
      if (this.perms.has(d.key)) throw new Error(`permission defined twice: ${d.key}`);
      this.perms.set(d.key, d);
    }
  }

  addRole(def: RoleDef): void {
    const existing = this.roleMap.get(def.key);
    if (existing) {
      existing.permissions = [...new Set([...existing.permissions, ...def.permissions])];
      return;
    }
    if (!def.label) throw new Error(`role ${def.key} needs a label where it is first defined`);
    this.roleMap.set(def.key, { ...def, permissions: [...def.permissions], scope: def.scope ?? 'organization' });
  }

  permissions(): PermissionDef[] {
    return [...this.perms.values()];
  }

  roles() {
    return [...this.roleMap.values()];
  }

  role(key: string) {
    return this.roleMap.get(key);
  }

  hasRole(key: string): boolean {
    return this.roleMap.has(key);
  }

  /** Every permission the roles grant; `*` expands to all registered permissions. */
  permissionsOf(roles: string[]): Set<string> {
    const out = new Set<string>();
    for (const r of roles) {
      const role = this.roleMap.get(r);
      if (!role) continue;
      for (const p of role.permissions) {
        if (p === '*') for (const k of this.perms.keys()) out.add(k);
        else out.add(p);
      }
    }
    return out;
  }

  seesAllOrganizations(roles: string[]): boolean {
    return roles.some((r) => this.roleMap.get(r)?.scope === 'all');
  }

  /** Unknown permission keys in role definitions are programming errors; fail at start. */
  validate(): void {
    for (const role of this.roleMap.values()) {
      for (const p of role.permissions) {
        if (p !== '*' && !this.perms.has(p)) throw new Error(`role ${role.key} grants unknown permission ${p}`);
      }
    }
  }
}

/** May the actor do what `permission` names? */
export function can(actor: Actor | null | undefined, permission: string): boolean {
  return Boolean(actor && actor.permissions.has(permission));
}

/**
 * May the actor act on data of the organisation? Prefecture-wide roles see all; others see
 * their own organisation and those below it (`descendants` holds the ids below the actor's).
 */
export function canAccessOrganization(actor: Actor, organizationId: number | null, descendants: ReadonlySet<number> = new Set()): boolean {
  if (actor.allOrganizations) return true;
  if (organizationId === null || actor.organizationId === null) return false;
  return organizationId === actor.organizationId || descendants.has(organizationId);
}

/**
 * The operator at the server's console (CLI, first start): every permission, every organisation.
 * Its audit entries name no staff account.
 */
export function consoleActor(registry: PermissionRegistry): Actor {
  return { id: 0, loginId: 'cli', displayName: 'コマンドライン', organizationId: null, roles: ['system_admin'], permissions: registry.permissionsOf(['system_admin']), allOrganizations: true };
}
