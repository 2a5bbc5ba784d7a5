/**
 * @roamchain/smdp: a simulated SM-DP+ (a miniature of GSMA SGP.22 ES2+ DownloadOrder / ConfirmOrder
 * and of the ES9+ authenticateClient step), its client and the SGP.22 activation code format.
 */
export * from './activation.js';
export * from './client.js';
export * from './server.js';
