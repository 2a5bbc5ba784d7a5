/** @roamchain/devnet: the local devnet (`npm start`, `roamchain devnet`) and its demo accounts. */
export * from './devnet.js';
export * from './run.js';
