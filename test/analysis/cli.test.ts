import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadAll } from 'js-yaml';
import { runAnalyzeCommand } from '../../src/analysis/cli';

const DATA = path.resolve(__dirname, '..', '..', '..', 'shared', 'istio-testdata', 'analysis', 'testdata');
const ROOT = path.resolve(__dirname, '..', '..');

function run(args: string[], stdin = ''): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runAnalyzeCommand(args, { out: t => { out += t; }, err: t => { err += t; } }, () => stdin);
  return { code, out, err };
}

describe('cdk8s-istio analyze', () => {
  test('text output, one finding per line, and exit 1 when a finding is an error', () => {
    const r = run([path.join(DATA, 'virtualservice_destinationrules.yaml')]);
    expect(r.code).toBe(1);
    expect(r.out.trim().split('\n')).toEqual([
      expect.stringMatching(/^Error \[IST0101\] \(VirtualService default\/reviews-bogussubset\) Referenced host\+subset not found: "reviews\+bogus"/),
      expect.stringMatching(/^Error \[IST0101\] \(VirtualService default\/reviews-mirror-bogussubset\) Referenced mirror\+subset not found/),
    ]);
    expect(r.err).toMatch(/2 findings at or above Error/);
  });

  test('--output json prints an array of {code, name, level, resource, message}', () => {
    const r = run(['-o', 'json', path.join(DATA, 'gateway-duplicate-certificate.yaml')]);
    expect(r.code).toBe(0);
    const findings = JSON.parse(r.out);
    expect(findings).toHaveLength(4);
    for (const f of findings) expect(Object.keys(f).sort()).toEqual(['code', 'level', 'message', 'name', 'resource']);
    expect(findings[0]).toEqual({
      code: 'IST0138',
      name: 'GatewayDuplicateCertificate',
      level: 'Warning',
      resource: 'Gateway default/gateway-01-test-03',
      message: expect.stringContaining('Duplicate certificate in multiple gateways [default/gateway-01-test-03 istio-system/gateway-02-test-03]'),
    });
  });

  test('--fail-level makes warnings fail', () => {
    const file = path.join(DATA, 'gateway-duplicate-certificate.yaml');
    expect(run([file]).code).toBe(0);
    expect(run(['--fail-level', 'warning', file]).code).toBe(1);
    expect(run(['--fail-level=Info', file]).code).toBe(1);
  });

  test('--mesh-config reads a MeshConfig', () => {
    const file = path.join(DATA, 'serviceentry-missing-addresses-protocol.yaml');
    expect(run(['--fail-level', 'warning', file]).out).toMatch(/IST0134/);
    const r = run(['--fail-level', 'warning', '--mesh-config', path.join(DATA, 'serviceentry-missing-addresses-protocol-mesh-cfg.yaml'), file]);
    expect(r.out).not.toMatch(/IST0134/);
    expect(r.code).toBe(0);
  });

  test('--suppress takes CODE=RESOURCE globs, repeatedly', () => {
    const file = path.join(DATA, 'virtualservice_destinationrules.yaml');
    expect(run(['--suppress', 'IST0101=VirtualService default/reviews-*', file])).toEqual(expect.objectContaining({ code: 0 }));
    const one = run(['--suppress', 'IST0101=VirtualService default/reviews-bogussubset', file]);
    expect(one.code).toBe(1);
    expect(one.out).not.toMatch(/reviews-bogussubset/);
    expect(run(['--suppress', 'ReferencedResourceNotFound=*', file]).code).toBe(0);
  });

  test('--complete reports references to kinds the files lack; without it, the skipped checks are listed', () => {
    const file = path.join(DATA, 'virtualservice_dupmatches.yaml');
    const partial = run([file]);
    expect(partial.code).toBe(0);
    expect(partial.err).toMatch(/virtualservice\.DestinationRuleAnalyzer skipped: no DestinationRule in the manifests/);
    const complete = run(['--complete', file]);
    expect(complete.code).toBe(1);
    expect(complete.out).toMatch(/Referenced host\+subset not found/);
  });

  test('reads directories recursively and standard input', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'analyze-'));
    fs.mkdirSync(path.join(dir, 'nested'));
    fs.copyFileSync(path.join(DATA, 'conflicting-gateways.yaml'), path.join(dir, 'nested', 'gateways.yml'));
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a manifest');
    expect(run([dir]).out).toMatch(/IST0145[\s\S]*IST0145/);
    const stdin = run(['-'], fs.readFileSync(path.join(DATA, 'conflicting-gateways.yaml'), 'utf8'));
    expect(stdin.code).toBe(1);
    expect(stdin.out).toMatch(/\(Gateway alpha\) Conflict with gateways default\/beta/);
  });

  test('JSON input: an object or an array of manifests; invalid input exits 2 naming the file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'analyze-'));
    const manifests = loadAll(fs.readFileSync(path.join(DATA, 'conflicting-gateways.yaml'), 'utf8')).filter(d => d);
    fs.writeFileSync(path.join(dir, 'all.json'), JSON.stringify(manifests));
    expect(run([path.join(dir, 'all.json')]).out).toMatch(/IST0145[\s\S]*IST0145/);
    fs.writeFileSync(path.join(dir, 'broken.json'), '{"kind":');
    expect(run([path.join(dir, 'broken.json')])).toEqual(expect.objectContaining({ code: 2, err: expect.stringMatching(/broken\.json: not valid JSON/) }));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('clean input prints that no issues were found', () => {
    const r = run(['--analyzer', 'gateway.ConflictingGatewayAnalyzer', path.join(DATA, 'gateway-different-port.yaml')]);
    expect(r).toEqual({ code: 0, out: 'No validation issues found.\n', err: '' });
  });

  test('usage errors exit 2 with a message', () => {
    expect(run([])).toEqual(expect.objectContaining({ code: 2, err: expect.stringMatching(/give at least one FILE/) }));
    expect(run(['--output', 'yaml', 'x.yaml']).err).toMatch(/--output got 'yaml': use text or json/);
    expect(run(['--fail-level', 'fatal', 'x.yaml']).err).toMatch(/--fail-level got 'fatal': use Error, Warning or Info/);
    expect(run(['--nope']).err).toMatch(/unknown option --nope/);
    expect(run(['missing.yaml'])).toEqual({ code: 2, out: '', err: 'cdk8s-istio analyze: missing.yaml: no such file or directory\n' });
    expect(run(['--analyzer', 'bogus.Analyzer', path.join(DATA, 'conflicting-gateways.yaml')]).err).toMatch(/analyzers got unknown 'bogus.Analyzer'/);
    expect(run(['-h'])).toEqual(expect.objectContaining({ code: 0, out: expect.stringMatching(/^Usage: cdk8s-istio analyze/) }));
  });

  test('--list-analyzers lists Istio and cdk8s-istio analyzers', () => {
    const names = run(['--list-analyzers']).out.trim().split('\n');
    expect(names).toEqual(expect.arrayContaining(['virtualservice.DestinationRuleAnalyzer', 'cdk8s-istio.MtlsConflictAnalyzer']));
  });

  // The bin runs the compiled library: this needs `npx projen compile` (the build runs it before the tests).
  const built = fs.existsSync(path.join(ROOT, 'lib', 'analysis', 'cli.js'));
  (built ? test : test.skip)('the bin dispatches `analyze` to the compiled CLI (needs lib/, built by the compile step)', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-istio'), 'analyze', '-o', 'json', path.join(DATA, 'conflicting-gateways.yaml')],
      { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).map((f: any) => f.resource).sort()).toEqual(['Gateway alpha', 'Gateway beta']);
    const unknown = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-istio'), 'frobnicate'], { encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'[\s\S]*analyze/);
  });
});
