/** Field codecs shared by the operation modules (account names, ISO countries, MCC-MNC networks). */
import { str } from './codec.js';

export const NAME_RE = /^[a-z][a-z0-9-]{1,30}[a-z0-9]$/;
export const name = str(32, NAME_RE);
/** ISO 3166-1 alpha-2 country code. */
export const country = str(2, /^[A-Z]{2}$/);
/** Mobile network as MCC-MNC, e.g. 262-01. */
export const network = str(7, /^[0-9]{3}-[0-9]{2,3}$/);
