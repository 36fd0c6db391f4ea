/** The import checks ID numbers with the API's own check (gateway/id-number.ts). */
export { checkIdNumber, type IdNumberResult } from '../id-number.js';

/** A masked ID number as exports for non-admins show it (****…1234). */
export const isMaskedIdNumber = (v: string) => /^\*{4,}[\dXx]{4}$/.test(v.trim());
