// `npm run bench`: synthesis time of the patterns against plain ApiObjects creating the same objects, per app size,
// each measured in a fresh process (median of several runs after a warm-up), plus the offline analysis of the
// largest app. The last line printed is one JSON object with the results.
import { execFileSync } from 'child_process';
import * as os from 'os';
import { MeshAnalyzer } from '../src';
import { baselineApp, manifestsByChart, patternApp } from './apps';

const SIZES = (process.env.BENCH_SIZES ?? '100,1000,5000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

interface Sample { readonly ms: number; readonly objects: number; readonly rssMb: number }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** One measurement in this process: build and synthesize `variant` at `size`, `runs` times after a warm-up. */
function measure(variant: string, size: number, runs: number): Sample[] {
  const samples: Sample[] = [];
  for (let r = -1; r < runs; r++) {
    // Collect the previous run's garbage so the peak RSS is one synthesis's, not the sum of several.
    (global as any).gc?.();
    let ms: number;
    let objects: number;
    if (variant === 'patterns') {
      const start = process.hrtime.bigint();
      const app = patternApp(size);
      const yaml = app.synthYaml();
      ms = Number(process.hrtime.bigint() - start) / 1e6;
      objects = yaml.split('\n---\n').length;
    } else {
      // The baseline's input objects are prepared outside the timed section.
      const manifests = manifestsByChart(patternApp(size));
      const start = process.hrtime.bigint();
      const yaml = baselineApp(manifests).synthYaml();
      ms = Number(process.hrtime.bigint() - start) / 1e6;
      objects = yaml.split('\n---\n').length;
    }
    if (r >= 0) samples.push({ ms, objects, rssMb: process.resourceUsage().maxRSS / 1024 });
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
    if (r >= 0) samples.push({ ms, objects: manifests.length, rssMb: process.resourceUsage().maxRSS / 1024 });
  }
  return samples;
}

function child(variant: string, size: number): Sample[] {
  const out = execFileSync(process.execPath, ['--expose-gc', ...process.execArgv, __filename, '--child', variant, String(size)], {
    encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: process.env,
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

function main(): void {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    const size = Number(args[2]);
    process.stdout.write(`${JSON.stringify(args[1] === 'analysis' ? measureAnalysis(size, RUNS) : measure(args[1], size, RUNS))}\n`);
    return;
  }
  const results = [];
  for (const size of SIZES) {
    const patterns = child('patterns', size);
    const baseline = child('baseline', size);
    const ms = median(patterns.map(s => s.ms));
    const baselineMs = median(baseline.map(s => s.ms));
    results.push({
      services: size,
      objects: patterns[0].objects,
      ms: Math.round(ms),
      baselineMs: Math.round(baselineMs),
      ratio: Number((ms / baselineMs).toFixed(3)),
      rssMb: Math.round(Math.max(...patterns.map(s => s.rssMb))),
    });
  }
  const largest = Math.max(...SIZES);
  const analysisMs = Math.round(median(child('analysis', largest).map(s => s.ms)));
  console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}; median of ${RUNS} runs after a warm-up`);
  console.log('services | objects |  patterns ms | baseline ms | ratio | peak RSS MB');
  for (const r of results) {
    console.log(`${String(r.services).padStart(8)} | ${String(r.objects).padStart(7)} | ${String(r.ms).padStart(12)} | ${String(r.baselineMs).padStart(11)} | ${r.ratio.toFixed(2).padStart(5)} | ${String(r.rssMb).padStart(11)}`);
  }
  const synthMs = results.find(r => r.services === largest)!.ms;
  console.log(`analysis of the ${largest}-service app on its own: ${analysisMs} ms (${(analysisMs / synthMs * 100).toFixed(1)}% of its synth time)`);
  console.log(JSON.stringify({ results, analysisMs }));
}

main();
