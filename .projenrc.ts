import { cdk8s, javascript } from 'projen';

const project = new cdk8s.ConstructLibraryCdk8s({
  name: 'cdk8s-istio',
  packageName: 'cdk8s-istio',
  description: 'Typed, synth-time Istio service mesh patterns for cdk8s: canaries, zero trust, resilience, egress control and offline analysis',
  keywords: ['cdk8s', 'istio', 'service-mesh', 'kubernetes', 'gateway-api', 'mtls', 'canary'],
  author: 'cdk8s-istio maintainers',
  authorAddress: 'maintainers@cdk8s-istio.dev',
  repositoryUrl: 'https://github.com/cdk8s-istio/cdk8s-istio.git',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  jsiiVersion: '~5.9.0',
  typescriptVersion: '~5.9.0',

  // projen's template defaults to cdk8s 1.x / constructs 3.x.
  cdk8sVersion: '2.70.106',
  constructsVersion: '10.4.2',
  peerDeps: ['cdk8s-plus-33@^2.5.57'],
  devDeps: [
    '@types/node@^20',
    'cdk8s-cli@^2.200.0',
    '@types/js-yaml@^4.0.9',
    'ajv@^8.17.1',
    'ajv-formats@^3.0.1',
    '@bufbuild/cel@^0.6.0',
    'kubernetes-models@^4.5.1',
  ],
  // The analyzer CLI parses YAML at run time; js-yaml reads what Kubernetes' own parser reads (yaml 2.x misreads
  // some upstream CRDs' continuation lines).
  bundledDeps: ['js-yaml@^4.1.0'],
  bin: { 'cdk8s-istio': 'bin/cdk8s-istio' },

  github: false,
  release: false,
  buildWorkflow: false,
  depsUpgrade: false,
  pullRequestTemplate: false,
  docgen: true,
  gitignore: ['/.crd-cache/', 'examples/*/dist/', 'examples/*/node_modules/', '*.cpuprofile'],
  npmIgnoreOptions: { ignorePatterns: ['/imports/', '/examples/', '/.ci/', '/bench/', '/scripts/'] },
  jestOptions: {
    // A changed snapshot fails the run; update deliberately with `npx projen test -u`.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      // Examples import 'cdk8s-istio' as users do; in tests that is this package's source.
      moduleNameMapper: { '^cdk8s-istio$': '<rootDir>/src/index.ts' },
      testTimeout: 120_000,
      coveragePathIgnorePatterns: ['/node_modules/', '/src/imports/', '/test/'],
    },
  },
  tsconfigDev: {
    compilerOptions: {},
    include: ['../scripts/**/*.ts', '../bench/**/*.ts'],
  },
});

// The registry mirror lacks other platforms' bindings of unrs-resolver 1.12+ (pulled by jest 30 and the
// eslint resolver), and `npm ci` rejects a lock that misses them; 1.11.1 has every binding published.
project.package.addField('overrides', { 'unrs-resolver': '1.11.1' });

// The examples import 'cdk8s-istio' as a user would: a local install links the package to itself. `prepare` runs on
// `npm install`/`npm ci` in this repository, not when users install the package.
project.package.setScript('prepare', 'node scripts/link-self.js');

project.eslint?.addIgnorePattern('src/imports/');
project.eslint?.addIgnorePattern('examples/');
project.eslint?.addIgnorePattern('bin/');

// Generated L1 bindings: regenerate with `npx projen import [--from DIR]`, never edit by hand.
project.addTask('import', {
  description: 'Generate src/imports/ from the pinned Istio and Gateway API CRDs (imports/sources.json)',
  exec: 'ts-node --project test/tsconfig.json scripts/import.ts',
  receiveArgs: true,
});
project.gitattributes.addAttributes('/src/imports/**', 'linguist-generated');

project.addTask('bench', {
  description: 'Synthesis benchmark against a plain ApiObject baseline (BENCH_SIZES, BENCH_ROUNDS and BENCH_RUNS change the sizes and runs)',
  exec: 'ts-node --transpile-only --project test/tsconfig.json bench/synth-bench.ts',
  receiveArgs: true,
});

project.synth();
