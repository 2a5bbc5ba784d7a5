/** @roamchain/cli as a library: run the CLI in-process (tests, embedding) and its parsers. */
export * from './args.js';
export { Ctx, defaultKeystorePath, type GlobalOptions, type Io } from './context.js';
export { buildProgram, describeError, run, UsageError } from './program.js';
