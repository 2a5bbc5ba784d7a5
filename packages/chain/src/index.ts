export * from './application.js';
export * from './commits.js';
export * from './cost.js';
