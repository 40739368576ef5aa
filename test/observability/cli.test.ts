import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { dump } from 'js-yaml';
import { shopManifests } from './fixtures';
import { MeshDiagram, TrafficPlan } from '../../src';
import { GRAPH_USAGE, PLAN_USAGE, runGraphCommand, runPlanCommand } from '../../src/observability/cli';

/** Runs a command, capturing what it writes. */
function run(command: typeof runGraphCommand, args: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = command(args, { out: t => (out += t), err: t => (err += t) });
  return { code, out, err };
}

describe('cdk8s-istio graph and plan', () => {
  let dir: string;
  const manifests = shopManifests();
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-istio-cli-'));
    // As cdk8s writes them: one multi-document YAML file per chart.
    fs.mkdirSync(path.join(dir, 'dist'));
    fs.writeFileSync(path.join(dir, 'dist', 'a.k8s.yaml'), manifests.slice(0, 10).map(m => dump(m)).join('---\n'));
    fs.writeFileSync(path.join(dir, 'dist', 'b.k8s.yaml'), manifests.slice(10).map(m => dump(m)).join('---\n'));
    fs.writeFileSync(path.join(dir, 'dist', 'notes.txt'), 'not a manifest');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('graph of YAML files: Mermaid by default, the same as MeshDiagram', () => {
    const r = run(runGraphCommand, [path.join(dir, 'dist', 'a.k8s.yaml'), path.join(dir, 'dist', 'b.k8s.yaml')]);
    expect(r).toEqual({ code: 0, out: MeshDiagram.fromManifests(manifests).toMermaid(), err: '' });
  });

  test('graph of a directory, as DOT and as Markdown', () => {
    expect(run(runGraphCommand, ['--format', 'dot', path.join(dir, 'dist')]).out).toBe(MeshDiagram.fromManifests(manifests).toDot());
    expect(run(runGraphCommand, ['-f=markdown', path.join(dir, 'dist')]).out).toBe(MeshDiagram.fromManifests(manifests).toMarkdown());
  });

  test('graph to a file; JSON input (an object, an array or a List)', () => {
    const json = path.join(dir, 'all.json');
    fs.writeFileSync(json, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifests }));
    const output = path.join(dir, 'mesh.mmd');
    expect(run(runGraphCommand, ['-o', output, json])).toEqual({ code: 0, out: '', err: '' });
    expect(fs.readFileSync(output, 'utf8')).toBe(MeshDiagram.fromManifests(manifests).toMermaid());
    fs.writeFileSync(json, JSON.stringify(manifests));
    expect(run(runGraphCommand, [json]).out).toBe(MeshDiagram.fromManifests(manifests).toMermaid());
  });

  test('reading options', () => {
    const r = run(runGraphCommand, ['--trust-domain', 'prod.acme', '--cluster-domain=cluster.local', '--root-namespace', 'istio-system', path.join(dir, 'dist')]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(MeshDiagram.fromManifests(manifests, { trustDomain: 'prod.acme' }).toMermaid());
    expect(r.out).not.toBe(MeshDiagram.fromManifests(manifests).toMermaid());
  });

  test('plan: with the mesh analysis by default, without it, or with the findings of cdk8s-istio analyze -o json', () => {
    expect(run(runPlanCommand, [path.join(dir, 'dist')]).out).toBe(TrafficPlan.fromManifests(manifests).toMarkdown());
    expect(run(runPlanCommand, ['--no-analysis', path.join(dir, 'dist')]).out).toBe(TrafficPlan.fromManifests(manifests, { analyze: false }).toMarkdown());
    const findings = [{ code: 'IST0108', name: 'UnknownAnnotation', level: 'Warning', resource: 'Service shop/web', message: 'check me' }];
    fs.writeFileSync(path.join(dir, 'findings.json'), JSON.stringify(findings));
    const output = path.join(dir, 'TRAFFIC.md');
    const r = run(runPlanCommand, ['--title', 'Release 7', '--findings', path.join(dir, 'findings.json'), '--output', output, path.join(dir, 'dist')]);
    expect(r).toEqual({ code: 0, out: '', err: '' });
    const plan = fs.readFileSync(output, 'utf8');
    expect(plan).toBe(TrafficPlan.fromManifests(manifests, { title: 'Release 7', findings: findings.map(f => ({ ...f, analyzer: '' })) as any }).toMarkdown());
    expect(plan).toContain('| Warning | IST0108 UnknownAnnotation | Service shop/web | check me |');
  });

  test('help', () => {
    expect(run(runGraphCommand, ['--help'])).toEqual({ code: 0, out: GRAPH_USAGE, err: '' });
    expect(run(runPlanCommand, ['-h'])).toEqual({ code: 0, out: PLAN_USAGE, err: '' });
  });

  test('usage errors exit 2, pointing at the help', () => {
    expect(run(runGraphCommand, [])).toEqual({
      code: 2, out: '', err: 'cdk8s-istio graph: give at least one FILE, directory or - for standard input\nRun cdk8s-istio graph --help for usage.\n',
    });
    expect(run(runGraphCommand, ['--colour', 'x', dir]).err).toMatch(/^cdk8s-istio graph: unknown option --colour\n/);
    expect(run(runGraphCommand, ['--format', 'svg', dir]).err).toMatch(/^cdk8s-istio graph: --format got 'svg': use mermaid, dot or markdown\n/);
    expect(run(runPlanCommand, [dir, '--title']).err).toMatch(/^cdk8s-istio plan: --title needs a value\n/);
    expect(run(runPlanCommand, ['--format', 'dot', dir]).code).toBe(2);
    // An option given twice is refused, as analyze does, rather than one of the values being dropped.
    expect(run(runGraphCommand, ['--format', 'dot', '-f', 'mermaid', dir])).toEqual({
      code: 2, out: '', err: 'cdk8s-istio graph: --format given twice\nRun cdk8s-istio graph --help for usage.\n',
    });
    expect(run(runPlanCommand, ['-o', 'a.md', '--output', 'b.md', dir]).err).toMatch(/^cdk8s-istio plan: --output given twice\n/);
  });

  test('input errors exit 2 naming the file', () => {
    const missing = path.join(dir, 'missing.yaml');
    expect(run(runGraphCommand, [missing])).toEqual({ code: 2, out: '', err: `cdk8s-istio graph: ${missing}: no such file or directory\n` });
    fs.writeFileSync(path.join(dir, 'broken.yaml'), 'kind: [unclosed');
    expect(run(runGraphCommand, [path.join(dir, 'broken.yaml')])).toEqual(expect.objectContaining({ code: 2, err: expect.stringMatching(/broken\.yaml: not valid YAML/) }));
    fs.writeFileSync(path.join(dir, 'findings.json'), '{"not": "an array"}');
    expect(run(runPlanCommand, ['--findings', path.join(dir, 'findings.json'), dir])).toEqual({
      code: 2,
      out: '',
      err: `cdk8s-istio plan: --findings ${path.join(dir, 'findings.json')}: give the findings as cdk8s-istio analyze -o json writes them: a JSON array of {code, name, level, resource, message}\n`,
    });
    fs.writeFileSync(path.join(dir, 'findings.json'), 'IST0108,oops');
    expect(run(runPlanCommand, ['--findings', path.join(dir, 'findings.json'), dir]).err).toMatch(/--findings .*findings\.json: not valid JSON/);
    expect(run(runPlanCommand, ['--findings', path.join(dir, 'none.json'), dir]).err).toMatch(/--findings .*none\.json: no such file\n$/);
    expect(run(runPlanCommand, ['--findings', path.join(dir, 'findings.json'), '--no-analysis', dir]).err).toMatch(/give --findings or --no-analysis, not both/);
    expect(run(runGraphCommand, ['--no-analysis', dir]).err).toMatch(/unknown option --no-analysis/);
  });

  test('standard input, and directories without node_modules and hidden directories', () => {
    const text = manifests.map(m => dump(m)).join('---\n');
    let out = '';
    expect(runGraphCommand(['-'], { out: t => (out += t), err: () => undefined }, () => text)).toBe(0);
    expect(out).toBe(MeshDiagram.fromManifests(manifests).toMermaid());
    for (const skipped of ['node_modules', '.git']) {
      fs.mkdirSync(path.join(dir, 'dist', skipped));
      fs.writeFileSync(path.join(dir, 'dist', skipped, 'x.yaml'), 'kind: [unclosed');
    }
    expect(run(runGraphCommand, [path.join(dir, 'dist')]).out).toBe(MeshDiagram.fromManifests(manifests).toMermaid());
  });
});
