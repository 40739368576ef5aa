// Rewrites the mesh diagram embedded in each examples/<name>/README.md from what the example synthesizes, creating
// the README when there is none. test/observability/example-diagrams.test.ts fails while one is out of date.
//
//   npx ts-node --transpile-only --project test/tsconfig.json scripts/diagrams.ts
import * as fs from 'fs';
import * as path from 'path';

// Examples import 'cdk8s-istio': give them this checkout's sources, as the tests' moduleNameMapper does.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Module = require('module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request: string, ...rest: unknown[]) {
  return resolve.call(this, request === 'cdk8s-istio' ? path.join(__dirname, '..', 'src', 'index.ts') : request, ...rest);
};

// eslint-disable-next-line import/order
import { MeshDiagram } from '../src';
import { EXAMPLES, REGENERATE_DIAGRAMS, exampleNames, synthExample, withDiagram } from '../test/example-helper';

/** A README for an example that has none: its title, the first comment of its main.ts, how to synthesize it. */
function newReadme(name: string): string {
  const main = fs.readFileSync(path.join(EXAMPLES, name, 'main.ts'), 'utf8');
  const summary = /^\/\/ (.*)$/m.exec(main)?.[1] ?? '';
  return [
    `# Example: ${name}`,
    '',
    summary,
    '',
    `Synthesize it with \`npx cdk8s synth\` in \`examples/${name}\`; the manifests land in \`dist/\`.`,
    '',
    '## The app in the mesh',
    '',
    'Solid arrows are routes (with their weights and matches), dashed arrows mirrored traffic, dotted arrows who may',
    'call whom under the authorization policies. Regenerate after changing the example:',
    `\`${REGENERATE_DIAGRAMS}\`.`,
    '',
  ].join('\n');
}

for (const name of exampleNames) {
  const file = path.join(EXAMPLES, name, 'README.md');
  const readme = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : newReadme(name);
  const updated = withDiagram(readme, MeshDiagram.fromManifests(synthExample(name)).toMarkdown());
  if (updated !== readme || !fs.existsSync(file)) {
    fs.writeFileSync(file, updated);
    console.log(`updated ${path.relative(process.cwd(), file)}`);
  }
}
