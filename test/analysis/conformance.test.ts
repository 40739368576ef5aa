// Istio's own analyzer test cases (Istio 1.30, pkg/config/analysis/analyzers/analyzers_test.go), read from the shared
// test data at run time: every case of every implemented analyzer must produce exactly the expected findings.
import * as fs from 'fs';
import * as path from 'path';
import { loadAll } from 'js-yaml';
import { AnalysisMeshConfig, MeshAnalyzer } from '../../src';

const DATA = path.resolve(__dirname, '..', '..', '..', 'shared', 'istio-testdata', 'analysis');

interface Case {
  readonly id: number;
  readonly name: string;
  readonly inputFiles: string[];
  readonly meshConfigFile: string | null;
  readonly analyzer: string;
  readonly expected: { code: string; resource: string }[];
}

/** Cases this library does not support, with the reason. Each one is listed in the output, never skipped silently. */
const UNSUPPORTED: { [caseId: number]: string } = {};

const cases: Case[] = JSON.parse(fs.readFileSync(path.join(DATA, 'cases.json'), 'utf8'));
const implemented = new Set(MeshAnalyzer.analyzerNames());
const results = new Map<string, { passed: number; total: number }>();

function run(c: Case): string[] {
  const manifests = c.inputFiles.flatMap(f => loadAll(fs.readFileSync(path.join(DATA, f), 'utf8')) as any[]);
  const meshConfig = c.meshConfigFile ? AnalysisMeshConfig.fromYaml(fs.readFileSync(path.join(DATA, c.meshConfigFile), 'utf8')) : undefined;
  // istioctl analyze on files: unnamespaced objects stay unnamespaced, and the files are all there is.
  const report = MeshAnalyzer.analyze(manifests, { meshConfig, defaultNamespace: '', inputsAreComplete: true, analyzers: [c.analyzer] });
  return report.findings.map(f => `${f.name} | ${f.resource}`).sort();
}

describe('Istio analyzer conformance', () => {
  afterAll(() => {
    const lines = [...results.entries()].sort().map(([a, r]) => `  ${a}: ${r.passed}/${r.total}`);
    const unsupported = cases.filter(c => UNSUPPORTED[c.id] || !implemented.has(c.analyzer))
      .map(c => `  ${c.name} (${c.analyzer}): ${UNSUPPORTED[c.id] ?? 'analyzer not implemented'}`);
    const passed = [...results.values()].reduce((n, r) => n + r.passed, 0);
    // eslint-disable-next-line no-console
    console.log(`Istio analyzer conformance: ${passed}/${cases.length} cases\n${lines.join('\n')}`
      + (unsupported.length ? `\nUnsupported cases:\n${unsupported.join('\n')}` : '\nUnsupported cases: none'));
  });

  test('the shared test data is there', () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  test.each(cases.map(c => [`#${c.id} ${c.analyzer}: ${c.name}`, c] as const))('%s', (_title, c) => {
    const entry = results.get(c.analyzer) ?? { passed: 0, total: 0 };
    results.set(c.analyzer, entry);
    entry.total++;
    if (UNSUPPORTED[c.id] || !implemented.has(c.analyzer)) {
      expect(UNSUPPORTED[c.id] ?? `${c.analyzer} is not implemented`).toBeTruthy();
      return;
    }
    const expected = c.expected.map(e => `${e.code} | ${e.resource}`).sort();
    expect(run(c)).toEqual(expected);
    entry.passed++;
  });
});
