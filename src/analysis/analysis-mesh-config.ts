import { loadAll } from 'js-yaml';

/**
 * The parts of Istio's mesh configuration the analysis reads: the root namespace, the ingress gateway, telemetry
 * providers and proxy metadata. Unset fields take Istio's defaults.
 * @see https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/
 */
export class AnalysisMeshConfig {
  /** Istio's default mesh configuration. */
  public static defaults(): AnalysisMeshConfig {
    return new AnalysisMeshConfig({}, false);
  }

  /** @internal a mesh configuration derived from the app rather than given */
  public static _assumed(raw: any): AnalysisMeshConfig {
    return new AnalysisMeshConfig(raw, false);
  }

  /**
   * A mesh configuration from YAML: the `MeshConfig` itself (what `istioctl analyze --meshConfigFile` reads), or
   * the `istio` ConfigMap that holds it under `data.mesh`.
   * @param yaml the YAML text
   */
  public static fromYaml(yaml: string): AnalysisMeshConfig {
    let documents: any[];
    try {
      // Rendered files often start or end with `---`: empty documents are skipped.
      documents = loadAll(yaml).filter(d => d !== null && d !== undefined);
    } catch (e) {
      throw new Error(`mesh config is not valid YAML (${(e as Error).message.split('\n')[0]}): give a MeshConfig or the istio ConfigMap`);
    }
    if (documents.length > 1) {
      const configMap = documents.find(d => d?.kind === 'ConfigMap' && d?.metadata?.name === 'istio');
      if (!configMap) throw new Error(`mesh config has ${documents.length} documents: give one MeshConfig, or include the istio ConfigMap`);
      return AnalysisMeshConfig.fromObject(configMap);
    }
    return AnalysisMeshConfig.fromObject(documents[0] ?? {});
  }

  /**
   * A mesh configuration from an object: a `MeshConfig`, or the `istio` ConfigMap that holds it under `data.mesh`.
   * @param meshConfig the parsed mesh configuration
   */
  public static fromObject(meshConfig: any): AnalysisMeshConfig {
    if (meshConfig === null || typeof meshConfig !== 'object' || Array.isArray(meshConfig)) {
      throw new Error(`mesh config got ${JSON.stringify(meshConfig)}: give a MeshConfig object or the istio ConfigMap`);
    }
    if (meshConfig.kind === 'ConfigMap') {
      const text = meshConfig.data?.mesh;
      if (typeof text !== 'string') {
        throw new Error(`mesh config ConfigMap '${meshConfig.metadata?.name}' has no data.mesh: give the istio ConfigMap or a MeshConfig`);
      }
      return AnalysisMeshConfig.fromYaml(text);
    }
    return new AnalysisMeshConfig(meshConfig, true);
  }

  /** The root namespace: policies there apply mesh-wide. */
  public readonly rootNamespace: string;
  /** The trust domain of workload identities. */
  public readonly trustDomain: string;
  /** The ingress gateway's Service name, assumed installed in the root namespace. */
  public readonly ingressService: string;
  /** The value of the `istio` label that selects the ingress gateway's pods. */
  public readonly ingressSelector: string;
  /** Whether the default ingress gateway is assumed installed (`ingressControllerMode` is not `OFF`). */
  public readonly ingressGatewayInstalled: boolean;
  /** Provider names used when a Telemetry access logging entry names none. */
  public readonly defaultAccessLoggingProviders: string[];
  /** Proxy metadata of the default proxy configuration. */
  public readonly proxyMetadata: { [key: string]: string };

  /** @internal the extension providers, as given */
  public readonly _extensionProviders: any[];
  /** @internal whether the mesh config was given rather than assumed */
  public readonly _explicit: boolean;

  private constructor(raw: any, explicit: boolean) {
    this._explicit = explicit;
    this.rootNamespace = stringOr(raw.rootNamespace, 'istio-system');
    this.trustDomain = stringOr(raw.trustDomain, 'cluster.local');
    this.ingressService = stringOr(raw.ingressService, 'istio-ingressgateway');
    this.ingressSelector = stringOr(raw.ingressSelector, 'ingressgateway');
    this.ingressGatewayInstalled = String(raw.ingressControllerMode ?? 'STRICT').toUpperCase() !== 'OFF';
    const access = raw.defaultProviders?.accessLogging;
    this.defaultAccessLoggingProviders = Array.isArray(access) ? access.map(String) : [];
    const metadata = raw.defaultConfig?.proxyMetadata ?? {};
    this.proxyMetadata = {};
    for (const [k, v] of Object.entries(metadata)) this.proxyMetadata[k] = String(v);
    this._extensionProviders = Array.isArray(raw.extensionProviders) ? raw.extensionProviders : [];
  }
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' && value !== '' ? value : fallback;
}
