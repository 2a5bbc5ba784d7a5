export * from './json.js';
export * from './metrics.js';
export * from './server.js';
export * from './ws.js';
