import { AnalysisLevel, AnalysisReport, GatewayWorkload, MeshAnalyzer } from '../../src';
import { exampleNames, synthExample } from '../example-helper';

// The examples as `cdk8s synth` writes them, analyzed as MeshAnalysis would (Istio's default gateways assumed):
// the library's own constructs must not synthesize configuration the analysis rejects.
test.each(exampleNames.map(n => [n]))('example %s has no analysis errors', name => {
  const report = MeshAnalyzer.analyze(synthExample(name), { gatewayWorkloads: [GatewayWorkload.defaultIngress(), GatewayWorkload.defaultEgress()] });
  expect(report.findingsAtOrAbove(AnalysisLevel.ERROR).map(f => AnalysisReport.formatFinding(f))).toEqual([]);
});
