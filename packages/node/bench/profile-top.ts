/**
 * Summarises a V8 CPU profile (from `node --cpu-prof`, e.g. ROAMCHAIN_NODE_ARGS="--cpu-prof
 * --cpu-prof-dir=/tmp/prof" npm run bench):
 *   node --import tsx packages/node/bench/profile-top.ts FILE.cpuprofile [--top 25] [--from S] [--to S] [--timeline]
 * Prints self time and inclusive time per function (name, file:line), as share of the sampled time
 * (idle included, so the shares of one thread add up to 100 %). --from skips the first seconds
 * (start-up and setup) and --to ends early, so that the steady load dominates; --timeline prints the
 * busy share of the thread per 5 s (to find the measured window).
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '25' },
    from: { type: 'string', default: '0' },
    to: { type: 'string' },
    timeline: { type: 'boolean', default: false },
  },
});
const file = positionals[0];
if (!file) throw new Error('usage: profile-top.ts FILE.cpuprofile [--top N] [--from SECONDS]');
const top = Number(values.top);
const fromUs = Number(values.from) * 1e6;
const toUs = values.to !== undefined ? Number(values.to) * 1e6 : Number.POSITIVE_INFINITY;
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map<number, ProfileNode>();
const parent = new Map<number, number>();
for (const n of p.nodes) {
  byId.set(n.id, n);
  for (const c of n.children ?? []) parent.set(c, n.id);
}
const keyOf = (n: ProfileNode): string => {
  const f = n.callFrame;
  const name = f.functionName || '(anonymous)';
  if (!f.url) return name;
  const path = f.url.startsWith('file://') ? relative(process.cwd(), new URL(f.url).pathname) : f.url;
  return `${name}  ${path}:${f.lineNumber + 1}`;
};

const timeline = new Map<number, { all: number; idle: number }>();
const self = new Map<string, number>();
const incl = new Map<string, number>();
let total = 0;
let t = 0;
for (let i = 0; i < p.samples.length; i++) {
  const dt = p.timeDeltas[i] ?? 0;
  t += dt;
  if (t < fromUs || t > toUs) continue;
  total += dt;
  const leaf = byId.get(p.samples[i]!)!;
  if (values.timeline) {
    const b = Math.floor(t / 5e6);
    const e = timeline.get(b) ?? { all: 0, idle: 0 };
    e.all += dt;
    if (leaf.callFrame.functionName === '(idle)') e.idle += dt;
    timeline.set(b, e);
  }
  const k = keyOf(leaf);
  self.set(k, (self.get(k) ?? 0) + dt);
  const seen = new Set<string>();
  for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
    const key = keyOf(byId.get(id)!);
    if (seen.has(key)) continue;
    seen.add(key);
    incl.set(key, (incl.get(key) ?? 0) + dt);
  }
}

const print = (title: string, m: Map<string, number>, skip: (k: string) => boolean) => {
  process.stdout.write(`\n${title} (of ${(total / 1e6).toFixed(1)} s sampled)\n`);
  const rows = [...m].filter(([k]) => !skip(k)).sort((a, b) => b[1] - a[1]);
  for (const [k, v] of rows.slice(0, top)) {
    process.stdout.write(
      `${((v / total) * 100).toFixed(1).padStart(6)} %  ${(v / 1e6).toFixed(2).padStart(7)} s  ${k}\n`,
    );
  }
};
if (values.timeline) {
  process.stdout.write('\nbusy (not idle) share of the main thread per 5 s of the profile\n');
  for (const [b, e] of [...timeline].sort((x, y) => x[0] - y[0])) {
    const busy = e.all ? 1 - e.idle / e.all : 0;
    process.stdout.write(
      `${String(b * 5).padStart(5)} s  ${(busy * 100).toFixed(0).padStart(3)} %  ${'#'.repeat(Math.round(busy * 40))}\n`,
    );
  }
}
print('self time', self, () => false);
print('inclusive time', incl, (k) => k.startsWith('(root)') || k.startsWith('(program)'));
