/** Build, publish and close forms of one's organisations. */
export const FORMS_MANAGE = 'forms.manage';
/** Read, handle, export and delete responses (personal data; every view is audited). */
export const FORMS_RESPONSES = 'forms.responses';
/** Import Japan Post's postal code data. */
export const FORMS_POSTAL = 'forms.postal';
