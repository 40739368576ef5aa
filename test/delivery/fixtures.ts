// Shared setup of the progressive-delivery tests.
import { App, Chart, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import { expectValidManifests } from '../harness/validate';

export const resources: kplus.ContainerResources = {
  cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(500) },
  memory: { request: Size.mebibytes(64), limit: Size.mebibytes(256) },
};

/** A chart in namespace `shop` of a fresh app. */
export function shopChart(app: App = Testing.app()): Chart {
  return new Chart(app, 'test', { namespace: 'shop' });
}

/** A Deployment named `name` as Flagger and Argo Rollouts expect it: no generated selector. */
export function deployment(scope: Construct, name: string, image = `${name}:1.0.0`): kplus.Deployment {
  return new kplus.Deployment(scope, `${name}-deployment`, {
    metadata: { name },
    select: false,
    replicas: 3,
    containers: [{ image, portNumber: 8080, resources }],
  });
}

/** Synthesizes the chart and checks every object against the pinned CRDs and Kubernetes schemas. */
export function synthValid(chart: Chart): any[] {
  const manifests = Testing.synth(chart);
  expectValidManifests(manifests);
  return manifests;
}

export const byKind = (manifests: any[], kind: string) => manifests.filter(m => m.kind === kind);
export const one = (manifests: any[], kind: string) => {
  const found = byKind(manifests, kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0];
};
