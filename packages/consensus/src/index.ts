export * from './messages.js';
export * as sim from './sim/index.js';
export * from './tendermint.js';
export * from './types.js';
