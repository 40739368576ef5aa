// `cdk8s-istio graph` and `cdk8s-istio plan`: the diagram and the traffic plan of manifests on disk, written by
// cdk8s or any other tool. Not part of the jsii API: the bin dispatches to these functions.
import * as fs from 'fs';
import { ManifestReadOptions, MeshDiagram } from './mesh-diagram';
import { TrafficPlan } from './traffic-plan';
import { CommandStreams, FILE_OPERANDS, InputError, OptionSpec, STDIO, UsageError, parseArgs, readManifests, readStdin, runCommand } from '../_cli';
import { AnalysisFinding, AnalysisLevel } from '../analysis/finding';

const READ_FLAGS = `
  --trust-domain DOMAIN     trust domain of workload identities (default cluster.local)
  --cluster-domain DOMAIN   DNS domain of service hosts (default cluster.local)
  --root-namespace NAME     Istio's root namespace (default istio-system)
  -o, --output FILE         write to FILE instead of standard output
  -h, --help                show this help

${FILE_OPERANDS}
Exit status: 0 on success, 2 for usage or input errors.
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

/** Findings as `cdk8s-istio analyze -o json` writes them: an array of {code, name, level, resource, message}. */
function readFindings(file: string): AnalysisFinding[] {
  if (!fs.existsSync(file)) throw new InputError(`--findings ${file}: no such file`);
  let parsed: any;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(`--findings ${file}: not valid JSON (${(e as Error).message})`);
  }
  const levels = Object.values(AnalysisLevel) as string[];
  const valid = (f: any) => f && ['code', 'resource', 'message'].every(k => typeof f[k] === 'string') && levels.includes(f.level);
  if (!Array.isArray(parsed) || !parsed.every(valid)) {
    throw new InputError(`--findings ${file}: give the findings as cdk8s-istio analyze -o json writes them: a JSON array of {code, name, level, resource, message}`);
  }
  return parsed.map(f => ({ name: '', analyzer: '', ...f }));
}

/** A command's parsed line: the operands, the value of each option given and the switches. */
interface Parsed {
  readonly files: string[];
  readonly flags: Map<string, string>;
}

function readOptions(flags: Map<string, string>): ManifestReadOptions {
  return {
    trustDomain: flags.get('--trust-domain'),
    clusterDomain: flags.get('--cluster-domain'),
    rootNamespace: flags.get('--root-namespace'),
  };
}

function run(name: string, usage: string, args: string[], options: OptionSpec, streams: CommandStreams, body: (p: Parsed) => string): number {
  return runCommand(name, streams, () => {
    const parsed = parseArgs(args, { ...options, valued: [...options.valued, ...READ_OPTIONS], aliases: { '-o': '--output', '-f': '--format' } });
    if (parsed.help) {
      streams.out(usage);
      return 0;
    }
    const flags = new Map([...parsed.values].map(([option, values]) => [option, values[0]]));
    for (const s of parsed.switches) flags.set(s, 'true');
    const text = body({ files: parsed.files, flags });
    const output = flags.get('--output');
    if (output) fs.writeFileSync(output, text);
    else streams.out(text);
    return 0;
  });
}

/**
 * `cdk8s-istio graph [--format mermaid|dot|markdown] FILE...`: the mesh diagram of manifest files.
 * @returns the exit code
 */
export function runGraphCommand(args: string[], streams: CommandStreams = STDIO, stdin: () => string = readStdin): number {
  return run('graph', GRAPH_USAGE, args, { valued: ['--format'] }, streams, ({ files, flags }) => {
    const format = flags.get('--format') ?? 'mermaid';
    if (!['mermaid', 'dot', 'markdown'].includes(format)) throw new UsageError(`--format got '${format}': use mermaid, dot or markdown`);
    const diagram = MeshDiagram.fromManifests(readManifests(files, stdin), readOptions(flags));
    return format === 'dot' ? diagram.toDot() : format === 'markdown' ? diagram.toMarkdown() : diagram.toMermaid();
  });
}

/**
 * `cdk8s-istio plan FILE...`: the traffic plan of manifest files, as Markdown.
 * @returns the exit code
 */
export function runPlanCommand(args: string[], streams: CommandStreams = STDIO, stdin: () => string = readStdin): number {
  return run('plan', PLAN_USAGE, args, { valued: ['--title', '--findings'], switches: ['--no-analysis'] }, streams, ({ files, flags }) => {
    const findingsFile = flags.get('--findings');
    if (findingsFile && flags.has('--no-analysis')) throw new UsageError('give --findings or --no-analysis, not both');
    const findings = findingsFile ? readFindings(findingsFile) : undefined;
    return TrafficPlan.fromManifests(readManifests(files, stdin), {
      ...readOptions(flags),
      title: flags.get('--title'),
      findings,
      analyze: !flags.has('--no-analysis'),
    }).toMarkdown();
  });
}
