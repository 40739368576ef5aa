// The diagram in each example's README is the one its manifests give now: it cannot go stale.
import * as fs from 'fs';
import * as path from 'path';
import { MeshDiagram } from '../../src';
import { EXAMPLES, REGENERATE_DIAGRAMS, diagramBlock, embeddedDiagram, exampleNames, synthExample, withDiagram } from '../example-helper';

describe('example READMEs', () => {
  test.each(exampleNames)('examples/%s/README.md embeds the current diagram', name => {
    const file = path.join(EXAMPLES, name, 'README.md');
    const expected = diagramBlock(MeshDiagram.fromManifests(synthExample(name)).toMarkdown());
    const readme = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (embeddedDiagram(readme) !== expected) {
      throw new Error(`examples/${name}/README.md does not show the example's current diagram; regenerate it with: ${REGENERATE_DIAGRAMS}`);
    }
  });

  test('the diagram block is replaced in place, or appended', () => {
    const readme = withDiagram('# Title\n\nText.\n', '```mermaid\nflowchart LR\n```\n');
    expect(readme).toBe(`# Title\n\nText.\n\n${diagramBlock('```mermaid\nflowchart LR\n```\n')}\n`);
    const updated = withDiagram(`${readme}\nAfter.\n`, '```mermaid\nflowchart TB\n```\n');
    expect(updated).toBe(`# Title\n\nText.\n\n${diagramBlock('```mermaid\nflowchart TB\n```\n')}\n\nAfter.\n`);
    expect(embeddedDiagram(updated)).toBe(diagramBlock('```mermaid\nflowchart TB\n```\n'));
  });
});
