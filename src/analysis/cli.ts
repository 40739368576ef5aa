// `cdk8s-istio analyze`: the mesh analysis of manifests on disk, written by cdk8s or any other tool. Not part of the
// jsii API: the bin dispatches to runAnalyzeCommand.
import * as fs from 'fs';
import { AnalysisMeshConfig } from './analysis-mesh-config';
import { AnalysisReport } from './analysis-report';
import { AnalysisLevel, AnalysisSuppression } from './finding';
import { MeshAnalyzer } from './mesh-analyzer';
import { CommandStreams, FILE_OPERANDS, InputError, OptionSpec, STDIO, UsageError, parseArgs, readManifests, readStdin, runCommand } from '../_cli';

export const ANALYZE_USAGE = `Usage: cdk8s-istio analyze [options] FILE...

Analyzes Istio and Kubernetes manifests offline, like istioctl analyze, without a cluster.
  --mesh-config FILE        the mesh config: a MeshConfig or the istio ConfigMap (default: Istio's defaults)
  -o, --output FORMAT       text (default) or json: an array of {code, name, level, resource, message}
  --fail-level LEVEL        Error (default), Warning or Info: exit 1 when a finding is at least this serious
  --output-threshold LEVEL  the least serious level printed in text output (default Info)
  --suppress CODE=RESOURCE  leave out a code (IST0102 or its name) on resources matching a glob over
                            "Kind namespace/name", e.g. --suppress "IST0102=Namespace *"; repeatable
  --complete                the files are everything the cluster holds (istioctl's assumption): report
                            references to kinds the files lack instead of skipping those checks
  --default-namespace NS    the namespace of objects that set none (default "default")
  --analyzer NAME           run only this analyzer; repeatable (see --list-analyzers)
  --list-analyzers          list the analyzers and exit
  -h, --help                show this help

${FILE_OPERANDS}
Exit status: 0 when no finding reaches the fail level, 1 when one does, 2 for usage or input errors.
`;

const OPTIONS: OptionSpec = {
  valued: ['--mesh-config', '--output', '--fail-level', '--output-threshold', '--suppress', '--default-namespace', '--analyzer'],
  repeatable: ['--suppress', '--analyzer'],
  switches: ['--complete', '--list-analyzers'],
  aliases: { '-o': '--output' },
};

function level(option: string, value: string | undefined, fallback: AnalysisLevel): AnalysisLevel {
  if (value === undefined) return fallback;
  const found = Object.values(AnalysisLevel).find(l => l.toLowerCase() === value.toLowerCase());
  if (!found) throw new UsageError(`${option} got '${value}': use Error, Warning or Info`);
  return found;
}

function suppression(value: string): AnalysisSuppression {
  const eq = value.indexOf('=');
  if (eq === 0) throw new UsageError(`--suppress got '${value}': give CODE=RESOURCE, e.g. "IST0102=Namespace frod"`);
  return eq < 0 ? { code: value } : { code: value.slice(0, eq), resource: value.slice(eq + 1) };
}

/**
 * Runs `cdk8s-istio analyze` with its arguments (after the subcommand) and returns the exit status.
 * @param args the arguments
 * @param streams where to write
 * @param stdin reads standard input, for the file `-`
 */
export function runAnalyzeCommand(args: string[], streams: CommandStreams = STDIO, stdin: () => string = readStdin): number {
  return runCommand('analyze', streams, () => {
    const parsed = parseArgs(args, OPTIONS);
    if (parsed.help) {
      streams.out(ANALYZE_USAGE);
      return 0;
    }
    if (parsed.switches.has('--list-analyzers')) {
      streams.out(MeshAnalyzer.analyzerNames().join('\n') + '\n');
      return 0;
    }
    const one = (name: string) => parsed.values.get(name)?.[0];
    const output = one('--output') ?? 'text';
    if (output !== 'text' && output !== 'json') throw new UsageError(`--output got '${output}': use text or json`);
    const failLevel = level('--fail-level', one('--fail-level'), AnalysisLevel.ERROR);
    const threshold = level('--output-threshold', one('--output-threshold'), AnalysisLevel.INFO);
    const meshConfigFile = one('--mesh-config');
    let meshConfig: AnalysisMeshConfig | undefined;
    if (meshConfigFile) {
      if (!fs.existsSync(meshConfigFile)) throw new InputError(`--mesh-config ${meshConfigFile}: no such file`);
      try {
        meshConfig = AnalysisMeshConfig.fromYaml(fs.readFileSync(meshConfigFile, 'utf8'));
      } catch (e) {
        throw new InputError(`--mesh-config ${meshConfigFile}: ${(e as Error).message}`);
      }
    }
    const manifests = readManifests(parsed.files, stdin);
    let report: AnalysisReport;
    try {
      report = MeshAnalyzer.analyze(manifests, {
        meshConfig,
        defaultNamespace: one('--default-namespace'),
        suppressions: (parsed.values.get('--suppress') ?? []).map(suppression),
        inputsAreComplete: parsed.switches.has('--complete'),
        analyzers: parsed.values.get('--analyzer'),
      });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }

    if (output === 'json') {
      streams.out(JSON.stringify(report.toJson(), undefined, 2) + '\n');
    } else {
      const shown = report.findingsAtOrAbove(threshold);
      streams.out(shown.length ? shown.map(f => AnalysisReport.formatFinding(f)).join('\n') + '\n' : 'No validation issues found.\n');
    }
    for (const a of report.incompleteAnalyzers()) streams.err(`${a.name} ${a.status}: ${a.reason}\n`);
    const failing = report.findingsAtOrAbove(failLevel).length;
    if (failing > 0) streams.err(`${failing} finding${failing > 1 ? 's' : ''} at or above ${failLevel}\n`);
    return failing > 0 ? 1 : 0;
  });
}
