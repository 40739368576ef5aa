// `npm run bench`: synthesis time of the patterns against plain ApiObjects creating the same objects, per app size,
// plus the offline analysis of the largest app. Timings come from fresh processes that alternate between the two
// variants (so a machine that slows down mid-run slows both), each taking a warm-up and then several runs; a figure
// is the median of every run. Peak RSS and the cold time come from fresh processes doing one synthesis each, as
// `cdk8s synth` does. The last line printed is one JSON object with the results.
import { execFileSync } from 'child_process';
import * as os from 'os';
import { App } from 'cdk8s';
import { MeshAnalyzer } from '../src';
import { baselineApp, manifestsByChart, patternApp } from './apps';

const SIZES = (process.env.BENCH_SIZES ?? '100,1000,5000').split(',').map(Number);
/** Processes per variant and size; they alternate with the other variant's. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Timed runs per process, after its warm-up. */
const RUNS = Number(process.env.BENCH_RUNS ?? 2);

interface Sample { readonly ms: number; readonly constructMs: number; readonly objects: number; readonly rssMb: number }
/** One synthesis in a fresh process: medians of its time and peak RSS. */
interface Cold { readonly ms: number; readonly rssMb: number }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * One synthesis of `variant` at `size`: its time (constructing the app, then writing its YAML), and the process's
 * peak RSS so far.
 */
function synthesize(variant: string, size: number): Sample {
  let start: bigint;
  let app: App;
  if (variant === 'patterns') {
    start = process.hrtime.bigint();
    app = patternApp(size);
  } else {
    // The baseline's input objects are prepared outside the timed section.
    const manifests = manifestsByChart(patternApp(size));
    (global as any).gc?.();
    start = process.hrtime.bigint();
    app = baselineApp(manifests);
  }
  const constructed = process.hrtime.bigint();
  const yaml = app.synthYaml();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { ms, constructMs: Number(constructed - start) / 1e6, objects: yaml.split('\n---\n').length, rssMb: process.resourceUsage().maxRSS / 1024 };
}

/** `runs` timed syntheses after a warm-up, each after collecting the previous one's garbage. */
function measure(variant: string, size: number, runs: number): Sample[] {
  const samples: Sample[] = [];
  for (let r = -1; r < runs; r++) {
    (global as any).gc?.();
    const sample = synthesize(variant, size);
    if (r >= 0) samples.push(sample);
  }
  return samples;
}

/** The offline analysis of the app's synthesized manifests on its own, median of `runs` after a warm-up. */
function measureAnalysis(size: number, runs: number): Sample[] {
  const manifests = [...manifestsByChart(patternApp(size)).values()].flat();
  const samples: Sample[] = [];
  for (let r = -1; r < runs; r++) {
    const start = process.hrtime.bigint();
    MeshAnalyzer.analyze(manifests);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (r >= 0) samples.push({ ms, constructMs: 0, objects: manifests.length, rssMb: process.resourceUsage().maxRSS / 1024 });
  }
  return samples;
}

function child(mode: string, variant: string, size: number): Sample[] {
  const out = execFileSync(process.execPath, ['--expose-gc', ...process.execArgv, __filename, '--child', mode, variant, String(size)], {
    encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: process.env,
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

/**
 * One synthesis in a fresh process, as `cdk8s synth` runs: its time and peak RSS, medians of ROUNDS processes (how
 * far V8 lets the heap grow before a collection catches up depends on timing, so one process on a busy machine can
 * report hundreds of MB more). Warm runs hide what only a fresh process meets, such as V8's hidden classes running
 * out (see ZeroTrustWorkload's policies): that made one synthesis of 2,000 services 4 times slower.
 */
function cold(variant: string, size: number): Cold {
  const samples: Sample[] = [];
  for (let round = 0; round < ROUNDS; round++) samples.push(child('cold', variant, size)[0]);
  return { ms: Math.round(median(samples.map(s => s.ms))), rssMb: Math.round(median(samples.map(s => s.rssMb))) };
}

function runChild(mode: string, variant: string, size: number): Sample[] {
  if (mode === 'cold') return [synthesize(variant, size)];
  if (variant === 'analysis') return measureAnalysis(size, Math.max(RUNS, 3));
  return measure(variant, size, RUNS);
}

function main(): void {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    process.stdout.write(`${JSON.stringify(runChild(args[1], args[2], Number(args[3])))}\n`);
    return;
  }
  const results = [];
  const colds: { readonly patterns: Cold; readonly baseline: Cold }[] = [];
  const phases: { readonly construct: number; readonly synth: number; readonly baselineConstruct: number; readonly baselineSynth: number }[] = [];
  for (const size of SIZES) {
    const patterns: Sample[] = [];
    const baseline: Sample[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      patterns.push(...child('time', 'patterns', size));
      baseline.push(...child('time', 'baseline', size));
    }
    const ms = median(patterns.map(s => s.ms));
    const baselineMs = median(baseline.map(s => s.ms));
    phases.push({
      construct: median(patterns.map(s => s.constructMs)),
      synth: median(patterns.map(s => s.ms - s.constructMs)),
      baselineConstruct: median(baseline.map(s => s.constructMs)),
      baselineSynth: median(baseline.map(s => s.ms - s.constructMs)),
    });
    // The baseline's process also holds its prepared input (the pattern app's manifests).
    const sizeCold = { patterns: cold('patterns', size), baseline: cold('baseline', size) };
    colds.push(sizeCold);
    results.push({
      services: size,
      objects: patterns[0].objects,
      ms: Math.round(ms),
      baselineMs: Math.round(baselineMs),
      ratio: Number((ms / baselineMs).toFixed(3)),
      rssMb: sizeCold.patterns.rssMb,
    });
  }
  const largest = Math.max(...SIZES);
  const analysisMs = Math.round(median(child('time', 'analysis', largest).map(s => s.ms)));
  console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}; `
    + `median of ${ROUNDS * RUNS} runs (${ROUNDS} alternating processes per variant, ${RUNS} runs each after a warm-up)`);
  console.log('services | objects |  patterns ms | baseline ms | ratio | cold ms (baseline) | cold ratio | peak RSS MB (baseline)');
  results.forEach((r, i) => {
    const c = colds[i];
    console.log(`${String(r.services).padStart(8)} | ${String(r.objects).padStart(7)} | ${String(r.ms).padStart(12)} | ${String(r.baselineMs).padStart(11)} | `
      + `${r.ratio.toFixed(2).padStart(5)} | ${`${c.patterns.ms} (${c.baseline.ms})`.padStart(18)} | ${(c.patterns.ms / c.baseline.ms).toFixed(2).padStart(10)} | `
      + `${String(r.rssMb).padStart(11)} (${c.baseline.rssMb})`);
  });
  console.log('services | construction ms (baseline) | synthYaml ms (baseline)   (medians of the same runs)');
  results.forEach((r, i) => {
    const p = phases[i];
    console.log(`${String(r.services).padStart(8)} | ${`${Math.round(p.construct)} (${Math.round(p.baselineConstruct)})`.padStart(26)} | `
      + `${Math.round(p.synth)} (${Math.round(p.baselineSynth)})`);
  });
  for (let i = 1; i < results.length; i++) {
    const [a, b] = [results[i - 1], results[i]];
    console.log(`${b.services} vs ${a.services} services: patterns ${(b.ms / a.ms).toFixed(2)}x, baseline ${(b.baselineMs / a.baselineMs).toFixed(2)}x`);
  }
  const synthMs = results.find(r => r.services === largest)!.ms;
  console.log(`analysis of the ${largest}-service app on its own: ${analysisMs} ms (${(analysisMs / synthMs * 100).toFixed(1)}% of its synth time)`);
  console.log(JSON.stringify({ results, analysisMs }));
}

main();
