// Every example under examples/ synthesizes, and everything it writes passes the schema + CEL validation.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadAll } from 'js-yaml';
import { expectValidManifests } from './harness/validate';

const EXAMPLES = path.join(__dirname, '..', 'examples');
const names = fs.readdirSync(EXAMPLES).filter(n => fs.existsSync(path.join(EXAMPLES, n, 'cdk8s.yaml')));

/** Runs an example's main.ts in-process (as `cdk8s synth` would) and returns what it wrote. */
export function synthExample(name: string): any[] {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `example-${name}-`));
  const previous = process.env.CDK8S_OUTDIR;
  process.env.CDK8S_OUTDIR = outdir;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- running the example is the point
    jest.isolateModules(() => require(path.join(EXAMPLES, name, 'main.ts')));
  } finally {
    if (previous === undefined) delete process.env.CDK8S_OUTDIR;
    else process.env.CDK8S_OUTDIR = previous;
  }
  return fs.readdirSync(outdir).sort().flatMap(f => loadAll(fs.readFileSync(path.join(outdir, f), 'utf8')) as any[]);
}

describe('examples', () => {
  test('there is at least the canary example', () => {
    expect(names).toContain('canary');
  });

  test.each(names)('%s synthesizes valid manifests', name => {
    const manifests = synthExample(name);
    expect(manifests.length).toBeGreaterThan(0);
    expectValidManifests(manifests);
    expect(manifests).toMatchSnapshot();
  });
});
