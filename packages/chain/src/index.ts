export * from './application.js';
export * from './commits.js';
