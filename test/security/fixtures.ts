// The shop used by the zero-trust tests: a frontend behind the ingress gateway calling a backend, in namespace
// `shop`, each with its own ServiceAccount and Service.
import { App, Chart, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import { DataplaneMode, Mesh, MeshProps, ZeroTrustNamespace, ZeroTrustNamespaceProps, ZeroTrustWorkload } from '../../src';
import { expectValidManifests } from '../harness/validate';

export const RESOURCES = {
  cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(500) },
  memory: { request: Size.mebibytes(128), limit: Size.mebibytes(256) },
};

/** A chart for namespace `namespace`, in an app with a Mesh of `mesh` props. */
export function chart(mesh: MeshProps = {}, namespace = 'shop', app: App = Testing.app()): Chart {
  if (Object.keys(mesh).length) new Mesh(app, 'Mesh', mesh);
  return new Chart(app, namespace, { namespace, disableResourceNameHashes: true });
}

/** A Deployment `name` running as ServiceAccount `name` (unless `serviceAccount` is false), with a Service on 8080. */
export function deployment(scope: Chart, name: string, options: { serviceAccount?: boolean; service?: boolean } = {}): kplus.Deployment {
  const serviceAccount = options.serviceAccount === false
    ? undefined
    : new kplus.ServiceAccount(scope, `${name}-account`, { metadata: { name } });
  const workload = new kplus.Deployment(scope, name, {
    metadata: { name },
    serviceAccount,
    podMetadata: { labels: { app: name } },
    containers: [{ name: 'app', image: `ghcr.io/example/${name}:1.0.0`, portNumber: 8080, resources: RESOURCES }],
  });
  if (options.service !== false) workload.exposeViaService({ name, ports: [{ port: 80, targetPort: 8080, name: 'http' }] });
  return workload;
}

export interface Shop {
  readonly chart: Chart;
  readonly zt: ZeroTrustNamespace;
  readonly frontend: ZeroTrustWorkload;
  readonly backend: ZeroTrustWorkload;
}

/** The shop's namespace, frontend and backend, with no rules yet. */
export function shop(mesh: MeshProps = {}, props: ZeroTrustNamespaceProps = {}): Shop {
  const c = chart(mesh);
  const zt = new ZeroTrustNamespace(c, 'ZeroTrust', props);
  const frontend = zt.addWorkload(deployment(c, 'frontend'), { serviceName: 'frontend' });
  const backend = zt.addWorkload(deployment(c, 'backend'), { serviceName: 'backend' });
  return { chart: c, zt, frontend, backend };
}

/** An ambient shop. */
export function ambientShop(props: ZeroTrustNamespaceProps = {}): Shop {
  return shop({ dataplaneMode: DataplaneMode.AMBIENT }, props);
}

/** Synthesizes the chart and validates every object against the pinned CRDs and Kubernetes schemas. */
export function synth(c: Chart): any[] {
  const manifests = Testing.synth(c);
  expectValidManifests(manifests);
  return manifests;
}

export const byKind = (manifests: any[], kind: string) => manifests.filter(m => m.kind === kind);

export function one(manifests: any[], kind: string, name: string): any {
  const found = manifests.filter(m => m.kind === kind && m.metadata.name === name);
  if (found.length !== 1) {
    throw new Error(`expected one ${kind} '${name}', found ${found.length} among ${byKind(manifests, kind).map(m => m.metadata.name).join(', ')}`);
  }
  return found[0];
}

/** The manifests the security area generates (no Deployments, Services or ServiceAccounts), for snapshots. */
export const securityObjects = (manifests: any[]) =>
  manifests.filter(m => !['Deployment', 'Service', 'ServiceAccount'].includes(m.kind));
