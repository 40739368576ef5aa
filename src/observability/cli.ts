// `cdk8s-istio graph` and `cdk8s-istio plan`: the diagram and the traffic plan of manifests on disk, written by
// cdk8s or any other tool. Not part of the jsii API: the bin dispatches to these functions.
import * as fs from 'fs';
import * as path from 'path';
import { loadAll } from 'js-yaml';
import { ManifestReadOptions, MeshDiagram } from './mesh-diagram';
import { TrafficPlan } from './traffic-plan';
import { CommandStreams, OptionSpec, STDIO, UsageError, parseArgs } from '../_cli';
import { AnalysisFinding, AnalysisLevel } from '../analysis/finding';

const READ_FLAGS = `
  --trust-domain DOMAIN     trust domain of workload identities (default cluster.local)
  --cluster-domain DOMAIN   DNS domain of service hosts (default cluster.local)
  --root-namespace NAME     Istio's root namespace (default istio-system)
  -o, --output FILE         write to FILE instead of standard output
  -h, --help                show this help

FILE may be a YAML or JSON file, a directory (its .yaml, .yml and .json files, recursively) or - for standard input.
`;

export const GRAPH_USAGE = `Usage: cdk8s-istio graph [--format mermaid|dot|markdown] [options] FILE...

Draws the services, versions, route weights, mirrors, gateways, egress and who may call whom of the manifests.
  -f, --format FORMAT       mermaid (default), dot (Graphviz) or markdown (a fenced mermaid block)${READ_FLAGS}`;

export const PLAN_USAGE = `Usage: cdk8s-istio plan [--title TITLE] [--findings FILE | --no-analysis] [options] FILE...

Writes the traffic plan of the manifests, as Markdown: routes per service, who may call whom, the egress
allow-list and the findings of the mesh analysis.
  --title TITLE             the plan's title (default "Traffic plan")
  --findings FILE           list these findings instead of analyzing: the JSON of cdk8s-istio analyze -o json
  --no-analysis             leave the analysis out${READ_FLAGS}`;

/** The options of both commands: reading manifests, and where the output goes. */
const READ_OPTIONS = ['--trust-domain', '--cluster-domain', '--root-namespace', '--output'];

/** A command's parsed line: the operands, and each option's value (the last one given). */
interface Parsed {
  readonly files: string[];
  readonly flags: Map<string, string>;
}

function manifestFiles(target: string): string[] {
  const stat = fs.statSync(target);
  if (!stat.isDirectory()) return [target];
  return fs.readdirSync(target).sort().flatMap(name => {
    const full = path.join(target, name);
    if (fs.statSync(full).isDirectory()) return name === 'node_modules' || name.startsWith('.') ? [] : manifestFiles(full);
    return /\.(ya?ml|json)$/.test(name) ? [full] : [];
  });
}

function readManifests(targets: string[]): any[] {
  if (!targets.length) throw new UsageError('give at least one manifest file or directory');
  const out: any[] = [];
  for (const target of targets) {
    if (target !== '-' && !fs.existsSync(target)) throw new Error(`${target}: no such file or directory`);
    for (const file of target === '-' ? ['-'] : manifestFiles(target)) {
      const text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
      try {
        const docs = file.endsWith('.json') ? [JSON.parse(text)] : loadAll(text);
        for (const d of docs) out.push(...(Array.isArray(d) ? d : [d]));
      } catch (e) {
        throw new Error(`${file}: not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'} (${(e as Error).message.split('\n')[0]})`);
      }
    }
  }
  return out.filter(d => d !== null && d !== undefined);
}

/** Findings as `cdk8s-istio analyze -o json` writes them: an array of {code, name, level, resource, message}. */
function readFindings(file: string): AnalysisFinding[] {
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  const levels = Object.values(AnalysisLevel) as string[];
  const valid = (f: any) => f && ['code', 'resource', 'message'].every(k => typeof f[k] === 'string') && levels.includes(f.level);
  if (!Array.isArray(parsed) || !parsed.every(valid)) {
    throw new Error(`${file}: give the findings as cdk8s-istio analyze -o json writes them: a JSON array of {code, name, level, resource, message}`);
  }
  return parsed.map(f => ({ name: '', analyzer: '', ...f }));
}

function readOptions(flags: Map<string, string>): ManifestReadOptions {
  return {
    trustDomain: flags.get('--trust-domain'),
    clusterDomain: flags.get('--cluster-domain'),
    rootNamespace: flags.get('--root-namespace'),
  };
}

function write(flags: Map<string, string>, text: string, streams: CommandStreams): void {
  const output = flags.get('--output');
  if (output) fs.writeFileSync(output, text);
  else streams.out(text);
}

function run(usage: string, args: string[], options: OptionSpec, streams: CommandStreams, body: (p: Parsed) => string): number {
  try {
    const valued = [...options.valued, ...READ_OPTIONS];
    // These commands have always taken the last value of an option given twice.
    const parsed = parseArgs(args, { ...options, valued, repeatable: valued, aliases: { '-o': '--output', '-f': '--format' } });
    if (parsed.help) {
      streams.out(usage);
      return 0;
    }
    const flags = new Map([...parsed.values].map(([name, values]) => [name, values[values.length - 1]]));
    for (const s of parsed.switches) flags.set(s, 'true');
    write(flags, body({ files: parsed.files, flags }), streams);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      streams.err(`cdk8s-istio: ${e.message}\n\n${usage}`);
      return 2;
    }
    streams.err(`cdk8s-istio: ${(e as Error).message}\n`);
    return 1;
  }
}

/**
 * `cdk8s-istio graph [--format mermaid|dot|markdown] FILE...`: the mesh diagram of manifest files.
 * @returns the exit code
 */
export function runGraphCommand(args: string[], streams: CommandStreams = STDIO): number {
  return run(GRAPH_USAGE, args, { valued: ['--format'] }, streams, ({ files, flags }) => {
    const format = flags.get('--format') ?? 'mermaid';
    if (!['mermaid', 'dot', 'markdown'].includes(format)) throw new UsageError(`--format got '${format}': use mermaid, dot or markdown`);
    const diagram = MeshDiagram.fromManifests(readManifests(files), readOptions(flags));
    return format === 'dot' ? diagram.toDot() : format === 'markdown' ? diagram.toMarkdown() : diagram.toMermaid();
  });
}

/**
 * `cdk8s-istio plan FILE...`: the traffic plan of manifest files, as Markdown.
 * @returns the exit code
 */
export function runPlanCommand(args: string[], streams: CommandStreams = STDIO): number {
  return run(PLAN_USAGE, args, { valued: ['--title', '--findings'], switches: ['--no-analysis'] }, streams, ({ files, flags }) => {
    const findingsFile = flags.get('--findings');
    if (findingsFile && flags.has('--no-analysis')) throw new UsageError('give --findings or --no-analysis, not both');
    const findings = findingsFile ? readFindings(findingsFile) : undefined;
    return TrafficPlan.fromManifests(readManifests(files), {
      ...readOptions(flags),
      title: flags.get('--title'),
      findings,
      analyze: !flags.has('--no-analysis'),
    }).toMarkdown();
  });
}
