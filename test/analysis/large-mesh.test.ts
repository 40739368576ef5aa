import { generateMesh } from './generate';
import { MeshAnalyzer } from '../../src';

// How long analysis takes is measured by `npm run bench` against synthesis, not asserted here.
test('a mesh of 10,000 consistent objects is analyzed without findings', () => {
  // GIVEN 100 namespaces of 20 services, each with two versions, a VirtualService and a DestinationRule
  const manifests = generateMesh(100, 20);
  expect(manifests.length).toBeGreaterThanOrEqual(10_000);

  // WHEN the whole mesh is analyzed
  const report = MeshAnalyzer.analyze(manifests);

  // THEN nothing is wrong with it
  expect(report.findings).toEqual([]);
});
