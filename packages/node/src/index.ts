export * from './interfaces.js';
export * from './mempool.js';
export * from './node.js';
export * from './store/index.js';
