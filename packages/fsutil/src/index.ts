/**
 * @roamchain/fsutil: file helpers for Node.js processes (not for browsers), below every package that
 * persists a file: the node's consensus sign state, the operator agent's state.
 */
export { writeFileAtomic } from './atomic.js';
export { keyFileExposure } from './keyfile.js';
