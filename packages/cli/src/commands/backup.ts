/**
 * `roamchain node backup --data-dir X --out FILE` and `roamchain node restore --from FILE --data-dir Z`
 * (docs/OPERATIONS.md, "Backup and restore"). `--data-dir` and `--store` are the `node` command's
 * options (given after `backup`/`restore` they still reach it), read here with optsWithGlobals.
 */
import type { Command } from 'commander';
import type { CliContext } from './shared.js';

const loadNode = () => import('@roamchain/node');

type Opts = { dataDir?: string; store?: 'level' | 'lmdb'; json?: boolean };

export function register(nodeCmd: Command, cli: CliContext): void {
  const { io } = cli;
  const dataDirOf = (o: Opts): string => {
    const d = o.dataDir ?? io.env.ROAMCHAIN_DATA_DIR;
    if (!d) throw new Error('--data-dir is required (or ROAMCHAIN_DATA_DIR)');
    return d;
  };
  const size = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

  nodeCmd
    .command('backup')
    .description(
      "snapshot of a node's store (consistent: whole blocks) into a file; from the running node's admin socket, or from the store of a stopped node",
    )
    .requiredOption('--out <file>', 'snapshot file to write (must not exist; mode 0600)')
    .action(async (o: { out: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals() as Opts;
      const { backupNode } = await loadNode();
      const r = await backupNode({
        dataDir: dataDirOf(g),
        out: o.out,
        ...(g.store ? { store: g.store } : {}),
      });
      if (g.json) io.stdout(`${JSON.stringify(r)}\n`);
      else
        io.stdout(
          `snapshot of the ${r.source} node at height ${r.head?.height ?? '?'}: ${r.entries} entries, ` +
            `${size(r.bytes)} in ${r.ms} ms -> ${r.out}\n`,
        );
    });

  nodeCmd
    .command('restore')
    .description(
      'restore a snapshot into an empty data directory; start the node on it (it checks the state root against its head block and catches up from its peers)',
    )
    .requiredOption('--from <file>', 'snapshot file written by `roamchain node backup`')
    .action(async (o: { from: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals() as Opts;
      const { restoreNode } = await loadNode();
      const r = await restoreNode({
        from: o.from,
        dataDir: dataDirOf(g),
        ...(g.store ? { store: g.store } : {}),
      });
      if (g.json) io.stdout(`${JSON.stringify(r)}\n`);
      else
        io.stdout(
          `restored height ${r.head?.height ?? '?'} (${r.entries} entries, ${size(r.bytes)}) into ${r.dataDir} ` +
            `in ${r.ms} ms; start the node on it with its node key\n`,
        );
    });
}
