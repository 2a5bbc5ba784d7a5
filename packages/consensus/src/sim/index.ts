export { fakeSign, fakeSigner, fakeVerifier } from './fakesig.js';
export { Rng } from './prng.js';
export { EventQueue } from './queue.js';
export {
  type CrashSpec,
  type PartitionSpec,
  paramsForSeed,
  runSeed,
  runSim,
  type SimParams,
  type SimReport,
  type SlowSpec,
} from './simulator.js';
