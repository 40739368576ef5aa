// Analyzers of Kubernetes objects as the mesh sees them: annotations, deprecated fields, sidecar injection, Service
// port names, workloads behind several Services, and the UID reserved for the proxy.
import { Analyzer, AnalyzerContext } from './_analyzer';
import { ANNOTATIONS, ANNOTATION_VALIDATION, DEPRECATION_ADVICE, isIstioAnnotation } from './_annotations';
import { sidecarInjected } from './_injection';
import { IGNORED_NAMESPACES, KIND, Labels, PROXY_CONTAINER, Resource, WORKLOAD_TEMPLATE_KINDS, Workload, hasProxy, list, stringMap } from './_resource';
import { ResourceIndex } from './_resource-index';
import { portProtocol } from '../mesh/service-port';

const INJECTION_LABEL = 'istio-injection';
const REVISION_LABEL = 'istio.io/rev';
const DATAPLANE_MODE_LABEL = 'istio.io/dataplane-mode';
const INJECT = 'sidecar.istio.io/inject';

/** Resources that are part of Istio's control plane. */
function isControlPlane(r: Resource): boolean {
  return 'istio' in r.labels || r.labels.release === 'istio';
}

/** IST0107, IST0108, IST0125, IST0135: unknown, misplaced, invalid and deprecated Istio annotations. */
export const annotationsAnalyzer: Analyzer = {
  name: 'annotations.K8sAnalyzer',
  description: 'Checks for misplaced, unknown, invalid and deprecated Istio annotations on Kubernetes resources',
  analyze(ctx: AnalyzerContext) {
    for (const key of [KIND.Namespace, KIND.Service, KIND.Pod, KIND.Deployment]) {
      for (const r of ctx.index.of(key)) checkAnnotations(ctx, r, r.kind, r.annotations, r.labels);
    }
    // Pod annotations belong on pod templates: check them there too.
    for (const w of ctx.index.workloads.all) {
      if (!w.isPod) checkAnnotations(ctx, w.resource, 'Pod', w.annotations, w.labels);
    }
  },
};

function checkAnnotations(ctx: AnalyzerContext, r: Resource, kind: string, annotations: Labels, labels: Labels): void {
  const where = kind === r.kind ? '' : ' (in the pod template)';
  for (const [name, value] of Object.entries(annotations)) {
    if (!isIstioAnnotation(name)) continue;
    const definition = ANNOTATIONS.get(name);
    if (!definition) {
      ctx.report('UnknownAnnotation', r, `Unknown annotation: ${name}${where}: Istio ignores it; check its spelling against `
        + 'https://istio.io/latest/docs/reference/config/annotations/');
      continue;
    }
    if (definition.deprecated && !(name === INJECT && INJECT in labels)) {
      ctx.report('DeprecatedAnnotation', r,
        `Annotation "${name}"${where} has been deprecated${DEPRECATION_ADVICE[name] ?? ''} and may not work in future Istio versions`);
    }
    if (definition.resources.includes('Any')) continue;
    if (!definition.resources.includes(kind)) {
      ctx.report('MisplacedAnnotation', r, `Misplaced annotation: ${name}${where} can only be applied to ${definition.resources.join(', ')}`
        + (definition.resources.includes('Pod') && r.kind !== 'Pod' && WORKLOAD_TEMPLATE_KINDS[r.key] ? '; move it to the pod template' : ''));
      continue;
    }
    const problem = ANNOTATION_VALIDATION[name]?.(value);
    if (problem) ctx.report('InvalidAnnotation', r, `Invalid annotation ${name}${where}: ${problem}`);
  }
}

/** IST0002: deprecated fields and removed kinds. */
export const deprecationAnalyzer: Analyzer = {
  name: 'deprecation.FieldAnalyzer',
  description: 'Checks for deprecated Istio fields and removed Istio kinds',
  analyze(ctx: AnalyzerContext) {
    for (const vs of ctx.index.of(KIND.VirtualService)) {
      list(vs.spec.http).forEach((rule: any, i: number) => {
        if (Number(rule.fault?.delay?.percent ?? 0) > 0) {
          ctx.report('Deprecated', vs, `Deprecated: HTTPRoute.fault.delay.percent is deprecated (http rule #${i}); use HTTPRoute.fault.delay.percentage`);
        }
      });
    }
    for (const sidecar of ctx.index.of(KIND.Sidecar)) {
      if (sidecar.spec.outboundTrafficPolicy?.egressProxy) {
        ctx.report('Deprecated', sidecar, 'Deprecated: OutboundTrafficPolicy.EgressProxy ignored; route egress through an egress gateway instead');
      }
    }
    const removed = new Set(['ClusterRbacConfig', 'RbacConfig', 'ServiceRole', 'ServiceRoleBinding']);
    for (const crd of ctx.index.of(KIND.CustomResourceDefinition)) {
      const group = crd.spec.group;
      const kind = crd.spec.names?.kind;
      if (group === 'rbac.istio.io' && removed.has(kind)) {
        ctx.report('Deprecated', crd, `Deprecated: Custom resource type ${group} ${kind} is removed; use security.istio.io AuthorizationPolicy`);
      }
    }
    for (const r of ctx.index.all) {
      if (r.key.startsWith('rbac.istio.io/') && removed.has(r.kind)) {
        ctx.report('Deprecated', r, `Deprecated: Custom resource type rbac.istio.io ${r.kind} is removed; use security.istio.io AuthorizationPolicy`);
      }
    }
  },
};

/** The value of the sidecar injector's `enableNamespacesByDefault` for a revision. */
function injectsNamespacesByDefault(ctx: AnalyzerContext, revision: string): boolean {
  const name = revision === '' || revision === 'default' ? 'istio-sidecar-injector' : `istio-sidecar-injector-${revision}`;
  for (const ns of new Set([ctx.mesh.rootNamespace, 'istio-system'])) {
    const cm = ctx.index.get(KIND.ConfigMap, ns, name);
    if (!cm) continue;
    try {
      return JSON.parse(cm.obj.data?.values ?? '{}')?.sidecarInjectorWebhook?.enableNamespacesByDefault === true;
    } catch {
      return false;
    }
  }
  return false;
}

/** IST0102, IST0103, IST0123, IST0148: namespaces and pods outside the mesh, and conflicting injection labels. */
export const injectionAnalyzer: Analyzer = {
  name: 'injection.Analyzer',
  description: 'Checks conditions related to Istio sidecar injection',
  analyze(ctx: AnalyzerContext) {
    const injected = new Set<string>();
    for (const ns of ctx.index.of(KIND.Namespace)) {
      if (ns.name === 'istio-system' || ns.name === ctx.mesh.rootNamespace || IGNORED_NAMESPACES.has(ns.name)) continue;
      const injection = ns.labels[INJECTION_LABEL];
      const revision = ns.labels[REVISION_LABEL];
      const mode = ns.labels[DATAPLANE_MODE_LABEL];
      // As Istio counts them: any value of the injection label; a revision or data plane mode (any value) beside no
      // injection label or an enabled one.
      const others = injection === undefined || injection === 'enabled';
      const modes = [
        ...(injection !== undefined ? [`${INJECTION_LABEL}=${injection}`] : []),
        ...(revision !== undefined && others ? [`${REVISION_LABEL}=${revision}`] : []),
        ...(mode !== undefined && others ? [`${DATAPLANE_MODE_LABEL}=${mode}`] : []),
      ];
      if (modes.length > 1) {
        ctx.report('NamespaceMultipleInjectionLabels', ns,
          `The namespace has more than one type of injection labels [${modes.join(' ')}], which may lead to undefined behavior: `
          + 'keep only one of them');
      }
      if (mode === 'ambient') continue;
      if (injection === undefined && revision === undefined) {
        if (injectsNamespacesByDefault(ctx, '')) {
          ctx.report('NamespaceInjectionEnabledByDefault', ns,
            'is enabled for Istio injection, as Istio is installed with enableNamespacesByDefault as true');
          injected.add(ns.name);
        } else {
          ctx.report('NamespaceNotInjected', ns,
            `The namespace is not enabled for Istio injection: label it ${INJECTION_LABEL}=enabled (or ${DATAPLANE_MODE_LABEL}=ambient) `
            + `to add its workloads to the mesh, or ${INJECTION_LABEL}=disabled to mark it as not needing injection`);
        }
        continue;
      }
      // Only the enabled injection label makes Istio check the pods for a proxy (a revision label alone does not).
      if (injection === 'enabled') injected.add(ns.name);
    }
    for (const pod of ctx.index.of(KIND.Pod)) {
      if (!injected.has(pod.namespace)) continue;
      const inject = pod.labels[INJECT] ?? pod.annotations[INJECT] ?? '';
      if (inject.toLowerCase() === 'false' || pod.spec.hostNetwork) continue;
      if (hasProxy(pod.spec)) continue;
      ctx.report('PodMissingProxy', pod,
        `The pod ${pod.fullName} is missing the Istio proxy. This can often be resolved by restarting or redeploying the workload`);
    }
  },
};

/** IST0118, IST0150: Service ports whose names do not tell Istio their protocol. */
export const portNameAnalyzer: Analyzer = {
  name: 'service.PortNameAnalyzer',
  description: 'Checks that Service port names (or appProtocol) declare the protocol',
  analyze(ctx: AnalyzerContext) {
    for (const svc of ctx.index.of(KIND.Service)) {
      if (IGNORED_NAMESPACES.has(svc.namespace) || isControlPlane(svc) || 'gateway.istio.io/managed' in svc.labels) continue;
      const externalName = svc.spec.type === 'ExternalName';
      for (const port of list(svc.spec.ports)) {
        const protocol = portProtocol(port);
        if (protocol !== undefined && !(externalName && port.name === 'tcp')) continue;
        if (externalName) {
          ctx.report('ExternalNameServiceTypeInvalidPortName', svc,
            `Port name for ExternalName service is invalid (port ${port.port}${port.name ? `, name ${port.name}` : ''}). Proxy may prevent tcp `
            + 'named ports and unmatched traffic for ports serving TCP protocol from being forwarded correctly: name it after the '
            + 'protocol other than tcp (http, https, tls, ...)');
        } else {
          ctx.report('PortNameIsNotUnderNamingConvention', svc,
            `Port name ${port.name ?? ''} (port: ${port.port}, targetPort: ${port.targetPort ?? ''}) doesn't follow the naming convention of `
            + 'Istio port: name it <protocol>[-<suffix>] (http, http2, grpc, tcp, tls, ...) or set appProtocol, so that Istio need '
            + 'not detect the protocol');
        }
      }
    }
  },
};

/** The Services that select each workload. */
function servicesByWorkload(index: ResourceIndex): Map<Workload, Resource[]> {
  return index.memo('services-by-workload', () => {
    const out = new Map<Workload, Resource[]>();
    for (const svc of index.of(KIND.Service)) {
      const selector = stringMap(svc.spec.selector);
      if (Object.keys(selector).length === 0) continue;
      for (const w of index.workloads.select(selector, svc.namespace)) {
        const found = out.get(w);
        if (found) found.push(svc);
        else out.set(w, [svc]);
      }
    }
    return out;
  });
}


/** IST0116, IST0137: workloads behind several Services that disagree on a port's protocol or number. */
export const serviceAssociationAnalyzer: Analyzer = {
  name: 'deployment.ServiceAssociationAnalyzer',
  description: 'Checks that the Services selecting a workload agree on the protocol and port of each target port',
  analyze(ctx: AnalyzerContext) {
    const services = servicesByWorkload(ctx.index);
    let assumed = 0;
    for (const w of ctx.index.workloads.all) {
      if (w.isPod || w.resource.labels['gateway.istio.io/managed'] === 'istio.io-mesh-controller') continue;
      const inMesh = sidecarInjected(ctx.index, w);
      if (inMesh === false || (inMesh === undefined && ctx.settings.complete)) continue;
      if (inMesh === undefined) assumed++;
      const matching = services.get(w) ?? [];
      if (matching.length < 2) continue;
      const protocols = new Map<number, Map<string, string[]>>();
      const targets = new Map<string, Map<number, string>>();
      for (const svc of matching) {
        for (const p of list(svc.spec.ports)) {
          const port = Number(p.port);
          const protocol = String(p.protocol ?? 'TCP') || 'TCP';
          let byProtocol = protocols.get(port);
          if (!byProtocol) protocols.set(port, byProtocol = new Map());
          byProtocol.set(protocol, [...(byProtocol.get(protocol) ?? []), svc.fullName]);
          const target = p.targetPort === undefined || p.targetPort === null || String(p.targetPort) === '0' || p.targetPort === ''
            ? String(port) : String(p.targetPort);
          let byPort = targets.get(target);
          if (!byPort) targets.set(target, byPort = new Map());
          byPort.set(port, svc.fullName);
        }
      }
      for (const [port, byProtocol] of protocols) {
        if (byProtocol.size < 2) continue;
        const names = [...byProtocol.values()].flat().sort();
        ctx.report('DeploymentAssociatedToMultipleServices', w.resource,
          `This deployment ${w.resource.name} is associated with multiple services using port ${port} but different protocols: `
          + `[${names.join(' ')}]; a pod can serve a port with one protocol only, so use the same protocol in every Service`);
      }
      for (const [target, byPort] of targets) {
        if (byPort.size < 2) continue;
        const ports = [...byPort.keys()].sort((a, b) => a - b);
        const names = [...byPort.values()].sort();
        ctx.report('DeploymentConflictingPorts', w.resource,
          `This deployment ${w.resource.name} is associated with multiple services [${names.join(' ')}] using targetPort "${target}" but `
          + `different ports: [${ports.join(' ')}]; Services targeting one container port must use the same port number`);
      }
    }
    if (assumed > 0) {
      ctx.limit(`${assumed} workload${assumed > 1 ? 's' : ''} in namespaces without a Namespace object in the manifests assumed to be in the mesh`);
    }
  },
};

/** IST0144: application containers running as the UID reserved for the sidecar. */
export const applicationUidAnalyzer: Analyzer = {
  name: 'deployment.ApplicationUIDAnalyzer',
  description: 'Checks that application containers do not run as the UID 1337 reserved for the proxy',
  analyze(ctx: AnalyzerContext) {
    for (const w of ctx.index.workloads.all) {
      if (isControlPlane(w.resource)) continue;
      const spec = w.podSpec;
      const containers = list(spec.containers).filter((c: any) => c.name !== PROXY_CONTAINER && c.name !== 'istio-operator');
      const pod = Number(spec.securityContext?.runAsUser) === 1337;
      const offenders = containers.filter((c: any) => Number(c.securityContext?.runAsUser) === 1337).map((c: any) => c.name);
      if (!pod && offenders.length === 0) continue;
      ctx.report('InvalidApplicationUID', w.resource,
        `User ID (UID) 1337 is reserved for the sidecar proxy (${pod ? 'pod securityContext' : `container ${offenders.join(', ')}`}): `
        + 'run the application as another user');
    }
  },
};
