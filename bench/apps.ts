// The apps the benchmark synthesizes: the patterns, and a baseline of the same objects as plain ApiObjects.
import { ApiObject, App, Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import { CanaryService, IngressTls, Mesh, ResiliencePreset, ResilientUpstream, Source, ZeroTrustNamespace, ZeroTrustWorkload } from '../src';

/** Services per namespace, as in a typical team namespace. */
export const SERVICES_PER_NAMESPACE = 20;

const resources: kplus.ContainerResources = {
  cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(500) },
  memory: { request: Size.mebibytes(128), limit: Size.mebibytes(256) },
};

/**
 * `services` CanaryServices (two versions, 90/10, every tenth exposed through the ingress gateway) with a
 * ResilientUpstream each, in zero-trust namespaces of 20 services where the first service of the namespace calls
 * every other one (an allow rule each) and the exposed ones admit the ingress gateway; all in one chart. (One chart
 * per namespace would measure cdk8s itself: it validates the whole app again for every chart it synthesizes, which
 * is quadratic in charts for any cdk8s app, patterns or not.)
 */
export function patternApp(services: number): App {
  const app = new App({ outdir: '/tmp/cdk8s-istio-bench' });
  new Mesh(app, 'Mesh');
  const chart = new Chart(app, 'platform', { disableResourceNameHashes: true });
  let zeroTrust: ZeroTrustNamespace | undefined;
  let caller: ZeroTrustWorkload | undefined;
  for (let i = 0; i < services; i++) {
    const namespace = `team-${Math.floor(i / SERVICES_PER_NAMESPACE)}`;
    if (i % SERVICES_PER_NAMESPACE === 0) zeroTrust = new ZeroTrustNamespace(chart, namespace, { namespace });
    const exposed = i % 10 === 0;
    const svc = new CanaryService(chart, `svc-${i}`, {
      namespace,
      versions: [{ name: 'v1', image: `registry.example.com/svc-${i}:1.0.0` }, { name: 'v2', image: `registry.example.com/svc-${i}:1.1.0` }],
      weights: { v1: 90, v2: 10 },
      resources,
      ingress: exposed ? { hosts: [`svc-${i}.example.com`], tls: IngressTls.simple(`svc-${i}-cert`) } : undefined,
    });
    new ResilientUpstream(chart, `svc-${i}-resilience`, { host: svc.host, preset: ResiliencePreset.STANDARD });
    const workload = zeroTrust!.addWorkloadSelector(svc.selector(), { name: svc.name, serviceName: svc.name });
    if (i % SERVICES_PER_NAMESPACE === 0) caller = workload;
    else workload.allowFrom(caller!, { methods: ['GET', 'POST'], paths: ['/api/*'] });
    if (exposed) workload.allowFrom(Source.ingressGateway(), { methods: ['GET'] });
  }
  return app;
}

/** Every chart's manifests, as the pattern app synthesizes them. */
export function manifestsByChart(app: App): Map<string, any[]> {
  return new Map(app.charts.map(c => [c.node.id, c.toJson()]));
}

/** The same objects as plain ApiObjects, in the same charts. */
export function baselineApp(manifests: Map<string, any[]>): App {
  const app = new App({ outdir: '/tmp/cdk8s-istio-bench' });
  for (const [id, objects] of manifests) {
    const chart = new Chart(app, id, { disableResourceNameHashes: true });
    objects.forEach((o, i) => new ApiObject(chart, `o${i}`, o));
  }
  return app;
}
