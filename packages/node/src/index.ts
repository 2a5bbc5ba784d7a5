export * from './api/index.js';
export * from './cluster.js';
export * from './crypto/verifier.js';
export * from './interfaces.js';
export * from './mempool.js';
export * from './node.js';
export * from './run.js';
export * from './store/index.js';
