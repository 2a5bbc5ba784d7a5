/** @roamchain/agent: the operator agent (countersigning, provisioning, billing, demands, webhooks, statements). */
export * from './agent.js';
export * from './auth.js';
export * from './config.js';
export * from './countersign.js';
export * from './devnet.js';
export * from './integrations.js';
export * from './run.js';
export * from './signup.js';
export * from './simulator.js';
export * from './store.js';
export * from './usage.js';
export * from './webhook.js';
