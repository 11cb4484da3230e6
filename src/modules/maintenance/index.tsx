import { defineModule } from '../../core/module.js';
import { maintenanceMigrations } from './migrations.js';
import { maintenanceOf } from './service.js';
import { MAINTENANCE_PERMISSION, maintenanceGate, mountMaintenanceAdmin } from './routes.js';
import './messages.js';

export { maintenanceOf, MAINTENANCE_LEAD_DAYS, MaintenanceService, MaintenanceValidationError } from './service.js';
export type { MaintenanceWindow } from './service.js';

/**
 * Planned maintenance (C-5, H-19, O-03): windows announced on every public page ahead of time,
 * the public site answering 503 with Retry-After while one is in progress, the staff console
 * still open. Registered right after `ops`, so its gate runs before the CMS and public routes.
 */
export const maintenanceModule = defineModule({
  name: 'maintenance',
  migrations: maintenanceMigrations,
  permissions: [{ key: MAINTENANCE_PERMISSION, label: 'メンテナンス告知の管理', labelEn: 'Manage maintenance notices' }],
  roles: [
    { key: 'operator', permissions: [MAINTENANCE_PERMISSION] },
    { key: 'site_admin', permissions: [MAINTENANCE_PERMISSION] },
  ],
  adminMenu: [{ label: 'nav.maintenance', href: '/admin/maintenance', permission: MAINTENANCE_PERMISSION, order: 95 }],
  routes(app, p) {
    const svc = maintenanceOf(p);
    app.use('*', maintenanceGate(svc));
    mountMaintenanceAdmin(app, p, svc);
  },
});
