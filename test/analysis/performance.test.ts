import { generateMesh } from './generate';
import { MeshAnalyzer } from '../../src';

test('10,000 objects are analyzed in well under a second', () => {
  // GIVEN 100 namespaces of 20 services, each with two versions, a VirtualService and a DestinationRule
  const manifests = generateMesh(100, 20);
  expect(manifests.length).toBeGreaterThanOrEqual(10_000);
  MeshAnalyzer.analyze(manifests); // warm up the JIT

  // WHEN the whole mesh is analyzed
  const runs: number[] = [];
  let findings = -1;
  for (let i = 0; i < 3; i++) {
    const start = process.hrtime.bigint();
    findings = MeshAnalyzer.analyze(manifests).findings.length;
    runs.push(Number(process.hrtime.bigint() - start) / 1e6);
  }

  // THEN it takes a fraction of a second (the bound leaves room for slow CI machines), and finds nothing wrong
  const best = Math.min(...runs);
  // eslint-disable-next-line no-console
  console.log(`mesh analysis of ${manifests.length} objects: ${runs.map(ms => `${ms.toFixed(0)} ms`).join(', ')} (best ${best.toFixed(0)} ms)`);
  expect(findings).toBe(0);
  expect(best).toBeLessThan(3000);
});
