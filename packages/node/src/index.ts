export * from './api/index.js';
export * from './crypto/verifier.js';
export * from './devnet.js';
export * from './interfaces.js';
export * from './mempool.js';
export * from './node.js';
export * from './run.js';
export * from './store/index.js';
