import { registerMessages } from '../../core/i18n/index.js';

/** Menu, job and role texts the admin shell shows outside this module's own (Japanese) screens. */
registerMessages({
  ja: {
    'nav.forms': 'フォーム',
  },
  en: {
    'nav.forms': 'Forms',
    'admin.jobLabel.forms.schedule': 'Open, close and remove forms on their dates',
    'admin.jobLabel.forms.uploads.purge': 'Remove form uploads never sent',
    'admin.roleDescription.forms_staff': 'Builds and publishes forms of their organisation and handles the responses.',
  },
});
