// Every example under examples/ synthesizes, and everything it writes passes the schema + CEL validation.
import { exampleNames as names, synthExample } from './example-helper';
import { expectValidManifests } from './harness/validate';

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
