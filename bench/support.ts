/**
 * Benchmark helpers: time a function over a bounded number of rounds, interleaving the
 * candidate with its baseline so drift in machine speed affects both alike.
 */

export interface Timing {
  /** Median nanoseconds per call. */
  medianNs: number;
}

/** Runs `fn` `callsPerRound` times per round and returns the median per-call time over the rounds. */
function roundNs(fn: () => unknown, callsPerRound: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < callsPerRound; i++) fn();
  return Number(process.hrtime.bigint() - start) / callsPerRound;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Times `candidate` and `baseline` in alternating rounds for at most `maxMs` (and at most
 * `maxRounds` rounds each), after a warm-up. Returns the median per-call time of each.
 */
export function compare(
  candidate: () => unknown,
  baseline: () => unknown,
  opts: { callsPerRound: number; maxRounds?: number; maxMs?: number },
): { candidate: Timing; baseline: Timing } {
  const maxRounds = opts.maxRounds ?? 30;
  const maxMs = opts.maxMs ?? 1500;
  for (let i = 0; i < 3; i++) {
    roundNs(candidate, opts.callsPerRound);
    roundNs(baseline, opts.callsPerRound);
  }
  const c: number[] = [];
  const b: number[] = [];
  const deadline = Date.now() + maxMs;
  for (let round = 0; round < maxRounds && (round < 5 || Date.now() < deadline); round++) {
    c.push(roundNs(candidate, opts.callsPerRound));
    b.push(roundNs(baseline, opts.callsPerRound));
  }
  return { candidate: { medianNs: median(c) }, baseline: { medianNs: median(b) } };
}

export function mbPerSec(bytes: number, ns: number): number {
  return bytes / (1024 * 1024) / (ns / 1e9);
}

export function report(
  name: string,
  bytes: number,
  r: { candidate: Timing; baseline: Timing },
  baselineName: string,
): void {
  const cand = mbPerSec(bytes, r.candidate.medianNs);
  const base = mbPerSec(bytes, r.baseline.medianNs);
  console.log(
    `${name.padEnd(44)} ${cand.toFixed(0).padStart(9)} MB/s   ${baselineName} ${base.toFixed(0).padStart(7)} MB/s   ratio ${(cand / base).toFixed(2)}x`,
  );
}
