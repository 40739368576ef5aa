// Where the diagram and the plan read from: plain manifests, or a cdk8s App synthesized in memory.
import { App } from 'cdk8s';
import { loadAll } from 'js-yaml';
import { MeshModel, ModelOptions, buildMeshModel } from './_mesh-model';
import { whoMayCall } from './_who-may-call';
import { GatewayWorkload } from '../mesh/gateway-workload';
import { DataplaneMode, Mesh } from '../mesh/mesh';

/** @internal The settings the manifests are read with (a structural copy of the public ManifestReadOptions). */
export interface ReadSettings {
  readonly trustDomain?: string;
  readonly clusterDomain?: string;
  readonly rootNamespace?: string;
  readonly gateways?: GatewayWorkload[];
  readonly dataplaneMode?: DataplaneMode;
}

/** @internal The model of some manifests; unset settings come from `mesh`, else Istio's defaults. */
export function readModel(manifests: any[], settings: ReadSettings = {}, mesh?: Mesh): MeshModel {
  if (!Array.isArray(manifests)) throw new Error(`manifests got ${typeof manifests}: give an array of Kubernetes objects`);
  const gateways = settings.gateways
    ?? (mesh ? [mesh.ingressGateway, mesh.egressGateway] : [GatewayWorkload.defaultIngress(), GatewayWorkload.defaultEgress()]);
  const options: ModelOptions = {
    trustDomain: settings.trustDomain ?? mesh?.trustDomain ?? 'cluster.local',
    clusterDomain: settings.clusterDomain ?? mesh?.clusterDomain ?? 'cluster.local',
    rootNamespace: settings.rootNamespace ?? mesh?.rootNamespace ?? 'istio-system',
    gateways: gateways.map(g => ({
      labels: g.labels,
      namespace: g.namespace,
      serviceAccountName: g.identity.serviceAccountName,
      serviceName: g.serviceName,
    })),
  };
  const dataplaneMode = settings.dataplaneMode ?? mesh?.dataplaneMode;
  return buildMeshModel(manifests, options, (model, objects) => whoMayCall(model, objects, { dataplaneMode }));
}

/** @internal Every manifest of an app, synthesized (and validated) in memory, and the app's Mesh if it has one. */
export function readApp(app: App): { manifests: any[]; mesh?: Mesh } {
  const manifests = loadAll(app.synthYaml()).filter(m => m !== null && m !== undefined) as any[];
  const meshes = app.node.findAll().filter((c): c is Mesh => c instanceof Mesh);
  return { manifests, mesh: meshes.find(m => m.node.scope === app) ?? meshes[0] };
}
