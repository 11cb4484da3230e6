import type { Platform } from '../../core/platform.js';
import { FormService } from './service.js';
import { ResponseService } from './responses.js';
import { PostalService } from './postal/index.js';

export interface FormsServices {
  forms: FormService;
  responses: ResponseService;
  postal: PostalService;
}

const services = new WeakMap<Platform, FormsServices>();

/**
 * The forms module's services for a platform (created once, on first use). Other modules use
 * forms through these, never through the tables.
 * @example const { forms } = formsOf(p); await forms.runSchedule()
 */
export function formsOf(p: Platform): FormsServices {
  let s = services.get(p);
  if (!s) {
    s = {
      forms: new FormService({ db: p.db, audit: p.audit, organizations: p.organizations }),
      responses: new ResponseService({ db: p.db, audit: p.audit, mail: p.mail, log: p.log.child({ component: 'forms' }), jobs: p.jobs }),
      postal: new PostalService({ db: p.db, audit: p.audit }),
    };
    services.set(p, s);
  }
  return s;
}
