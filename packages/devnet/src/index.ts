/** @roamchain/devnet: the local devnet (`npm start`, `roamchain devnet`) and its demo accounts. */

export * from './demo-feeds.js';
export * from './devnet.js';
export * from './run.js';
