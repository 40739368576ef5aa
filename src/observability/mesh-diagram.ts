import { App } from 'cdk8s';
import { Graph, buildGraph, toDot, toMermaid } from './_graph';
import { readApp, readModel } from './_sources';
import { GatewayWorkload } from '../mesh/gateway-workload';
import { DataplaneMode } from '../mesh/mesh';

/**
 * How manifests are read: the mesh settings that names and identities in them depend on.
 */
export interface ManifestReadOptions {
  /**
   * The trust domain of workload identities, which authorization policies name.
   * @default - the app's Mesh, else 'cluster.local'
   */
  readonly trustDomain?: string;
  /**
   * The cluster's DNS domain in service hosts (`name.namespace.svc.<domain>`).
   * @default - the app's Mesh, else 'cluster.local'
   */
  readonly clusterDomain?: string;
  /**
   * Istio's root namespace, whose policies apply mesh-wide.
   * @default - the app's Mesh, else 'istio-system'
   */
  readonly rootNamespace?: string;
  /**
   * The gateway deployments Istio Gateways select, with the identities they call services as.
   * @default - the app's Mesh ingress and egress gateways, else Istio's default ones
   */
  readonly gateways?: GatewayWorkload[];
  /**
   * How workloads of namespaces without a Namespace object among the manifests join the mesh, which decides where
   * authorization policies are enforced (sidecar, ztunnel, waypoint).
   * @default - the app's Mesh, else DataplaneMode.SIDECAR
   */
  readonly dataplaneMode?: DataplaneMode;
}

/**
 * A picture of the app in the mesh, drawn from its manifests: services and their versions with route weights and
 * mirrors, gateways and the hosts they serve, who may call whom under the authorization policies, and the
 * external hosts egress reaches.
 *
 * Routes are solid arrows, mirrors dashed, permissions to call dotted. The output is sorted, so the same manifests
 * always give the same text.
 *
 * @example
 * app.synth();
 * fs.writeFileSync('dist/mesh.mmd', MeshDiagram.fromApp(app).toMermaid());
 * @see https://mermaid.js.org/syntax/flowchart.html
 */
export class MeshDiagram {
  /**
   * The diagram of manifests synthesized by any tool (parsed YAML or JSON objects; `List`s are flattened).
   * @param manifests the Kubernetes objects
   * @param options how to read them
   */
  public static fromManifests(manifests: any[], options: ManifestReadOptions = {}): MeshDiagram {
    return new MeshDiagram(buildGraph(readModel(manifests, options)));
  }

  /**
   * The diagram of a cdk8s App, synthesized in memory (validations included); its Mesh supplies the defaults of
   * `options`.
   * @param app the app
   * @param options how to read its manifests
   */
  public static fromApp(app: App, options: ManifestReadOptions = {}): MeshDiagram {
    const { manifests, mesh } = readApp(app);
    return new MeshDiagram(buildGraph(readModel(manifests, options, mesh)));
  }

  private constructor(private readonly graph: Graph) {}

  /** Mermaid flowchart source, which GitHub renders in Markdown inside a `mermaid` code block. */
  public toMermaid(): string {
    return toMermaid(this.graph);
  }

  /** Graphviz DOT source (`dot -Tsvg mesh.dot > mesh.svg`). */
  public toDot(): string {
    return toDot(this.graph);
  }

  /** The diagram as a fenced `mermaid` block for a Markdown file. */
  public toMarkdown(): string {
    return `\`\`\`mermaid\n${this.toMermaid()}\`\`\`\n`;
  }
}
