// Istio Gateway analyzers: the workloads a Gateway selects, their Service ports, credentials, conflicts between
// Gateways and shared certificates.
import { Analyzer, AnalyzerContext } from './_analyzer';
import { KIND, Labels, Resource, Workload, list, selectorString, stringMap } from './_resource';
import { ResourceIndex } from './_resource-index';

/** The container ports each workload receives traffic on through the Services that select it. */
function servicePortsByWorkload(index: ResourceIndex): Map<Workload, Set<number>> {
  return index.memo('service-ports-by-workload', () => {
    const out = new Map<Workload, Set<number>>();
    for (const svc of index.of(KIND.Service)) {
      const selector = stringMap(svc.spec.selector);
      if (Object.keys(selector).length === 0) continue;
      const ports: number[] = [];
      for (const p of list(svc.spec.ports)) {
        if (p.protocol !== undefined && p.protocol !== 'TCP') continue;
        // A Gateway listens on the port the Service targets on the gateway pods.
        const target = Number(p.targetPort);
        ports.push(Number.isInteger(target) && target > 0 ? target : Number(p.port));
      }
      for (const w of index.workloads.select(selector, svc.namespace)) {
        let set = out.get(w);
        if (!set) out.set(w, set = new Set());
        ports.forEach(p => set!.add(p));
      }
    }
    return out;
  });
}

function selectorNotFound(ctx: AnalyzerContext, gateway: Resource, selector: Labels): void {
  ctx.report('ReferencedResourceNotFound', gateway,
    `Referenced selector not found: "${selectorString(selector)}": no gateway pod or workload has these labels; fix the selector, or `
    + 'declare gateway deployments installed outside the manifests with the gatewayWorkloads option');
}

/** IST0101, IST0162: Gateways that select no workload, or listen on ports their Services do not expose. */
export const ingressGatewayPortAnalyzer: Analyzer = {
  name: 'gateway.IngressGatewayPortAnalyzer',
  description: "Checks a Gateway's selector and ports against its workloads' Services",
  analyze(ctx: AnalyzerContext) {
    const portsByWorkload = servicePortsByWorkload(ctx.index);
    for (const gateway of ctx.index.of(KIND.Gateway)) {
      const selector = stringMap(gateway.spec.selector);
      const pods = ctx.index.workloads.select(selector);
      if (pods.length === 0) {
        selectorNotFound(ctx, gateway, selector);
        continue;
      }
      const ports = new Set<number>();
      for (const pod of pods) portsByWorkload.get(pod)?.forEach(p => ports.add(p));
      for (const server of list(gateway.spec.servers)) {
        const port = server.port?.number;
        if (port === undefined || ports.has(Number(port))) continue;
        ctx.report('GatewayPortNotDefinedOnService', gateway,
          `The gateway is listening on a target port (port ${port}) that is not defined in the Service associated with its workload `
          + `instances (Pod selector ${selectorString(selector)}): add it to the gateway Service's ports (as targetPort) or listen on `
          + `one of ${ports.size ? [...ports].sort((a, b) => a - b).join(', ') : 'its ports'}`);
      }
    }
  },
};

/** IST0101: Gateway credentials that are not Secrets in the namespace of the gateway workload. */
export const secretAnalyzer: Analyzer = {
  name: 'gateway.SecretAnalyzer',
  description: "Checks that a Gateway's credentialName Secrets exist where its workload runs",
  analyze(ctx: AnalyzerContext) {
    const checkSecrets = ctx.has(KIND.Secret);
    let unchecked = 0;
    for (const gateway of ctx.index.of(KIND.Gateway)) {
      const selector = stringMap(gateway.spec.selector);
      const pods = ctx.index.workloads.select(selector);
      if (pods.length === 0) {
        selectorNotFound(ctx, gateway, selector);
        continue;
      }
      const namespaces = [...new Set(pods.map(p => p.namespace))];
      for (const server of list(gateway.spec.servers)) {
        const tls = server.tls ?? {};
        const credentials = [tls.credentialName, ...list(tls.credentialNames)].filter(c => typeof c === 'string' && c !== '');
        for (const credential of credentials) {
          if (!checkSecrets) {
            unchecked++;
            continue;
          }
          for (const ns of namespaces) {
            const slash = credential.indexOf('/');
            const [secretNs, secretName] = slash >= 0 ? [credential.slice(0, slash), credential.slice(slash + 1)] : [ns, credential];
            if (ctx.index.get(KIND.Secret, secretNs, secretName)) continue;
            ctx.report('ReferencedResourceNotFound', gateway,
              `Referenced credentialName not found: "${credential}": the gateway workload runs in namespace ${ns || '(default)'}, so the `
              + `Secret must be ${secretNs ? `${secretNs}/` : ''}${secretName}; create it there or fix the name`);
          }
        }
      }
    }
    if (unchecked > 0) ctx.limit(`no Secret in the manifests: ${unchecked} credentialName reference${unchecked > 1 ? 's' : ''} not checked`);
  },
};

/** Whether every label of `a` is on `b` with the same value. */
function subsetOf(a: Labels, b: Labels): boolean {
  return Object.keys(a).every(k => b[k] === a[k]);
}

/** Equal selectors; or, one narrower than the other, when some pod carries both (as Istio checks it). */
function sameWorkloads(ctx: AnalyzerContext, a: Labels, b: Labels): boolean {
  if (subsetOf(a, b) && subsetOf(b, a)) return true;
  if (!subsetOf(a, b) && !subsetOf(b, a)) return false;
  return ctx.index.workloads.select({ ...a, ...b }).length > 0;
}

/** IST0145: Gateways on the same workloads and port that serve the same host. */
export const conflictingGatewayAnalyzer: Analyzer = {
  name: 'gateway.ConflictingGatewayAnalyzer',
  description: 'Checks that Gateways selecting the same workloads do not serve the same host on the same port',
  analyze(ctx: AnalyzerContext) {
    interface Bound { readonly gateway: Resource; readonly selector: Labels; readonly server: any }
    const byPortHost = new Map<string, Bound[]>();
    for (const gateway of ctx.index.of(KIND.Gateway)) {
      const selector = stringMap(gateway.spec.selector);
      for (const server of list(gateway.spec.servers)) {
        if (server.port?.number === undefined) continue;
        // Istio compares the hosts as written: `team-a/foo` and `team-b/foo` are different hosts.
        for (const host of new Set(list(server.hosts).map(String))) {
          const key = `${server.port.number}|${server.bind ?? ''}|${host}`;
          const found = byPortHost.get(key);
          const bound = { gateway, selector, server };
          if (found) found.push(bound);
          else byPortHost.set(key, [bound]);
        }
      }
    }
    const conflicts = new Map<any, { gateway: Resource; selector: Labels; server: any; rivals: Set<string> }>();
    for (const group of byPortHost.values()) {
      if (group.length < 2) continue;
      for (const a of group) {
        for (const b of group) {
          if (a.gateway === b.gateway || !sameWorkloads(ctx, a.selector, b.selector)) continue;
          let entry = conflicts.get(a.server);
          if (!entry) conflicts.set(a.server, entry = { ...a, rivals: new Set() });
          entry.rivals.add(b.gateway.fullName);
        }
      }
    }
    for (const { gateway, selector, server, rivals } of conflicts.values()) {
      ctx.report('ConflictingGateways', gateway,
        `Conflict with gateways ${[...rivals].join(',')} (workload selector ${selectorString(selector)}, port ${server.port.number}, `
        + `hosts ${list(server.hosts).join(',')}): the same gateway pods cannot serve one host on one port twice; merge the servers `
        + 'into one Gateway or give them different hosts');
    }
  },
};

/** IST0138: TLS servers of overlapping Gateways that present the same certificate. */
export const certificateAnalyzer: Analyzer = {
  name: 'gateway.CertificateAnalyzer',
  description: 'Checks that Gateways on the same workloads do not present the same certificate',
  analyze(ctx: AnalyzerContext) {
    const byCertificate = new Map<string, { gateway: Resource; selector: Labels }[]>();
    for (const gateway of ctx.index.of(KIND.Gateway)) {
      const selector = stringMap(gateway.spec.selector);
      const keys = new Set<string>();
      for (const server of list(gateway.spec.servers)) {
        const key = certificateKey(server.tls);
        if (key) keys.add(key);
      }
      for (const key of keys) {
        const found = byCertificate.get(key);
        if (found) found.push({ gateway, selector });
        else byCertificate.set(key, [{ gateway, selector }]);
      }
    }
    const reported = new Set<string>();
    for (const group of byCertificate.values()) {
      for (const current of group) {
        for (const other of group) {
          if (other.gateway === current.gateway || !subsetOf(current.selector, other.selector)) continue;
          const pair = `${current.gateway.display}|${other.gateway.display}`;
          if (reported.has(pair)) continue;
          reported.add(pair);
          ctx.report('GatewayDuplicateCertificate', current.gateway,
            `Duplicate certificate in multiple gateways [${current.gateway.fullName} ${other.gateway.fullName}] may cause 404s if clients `
            + 're-use HTTP2 connections: serve the hosts from one Gateway, or give each Gateway its own certificate');
        }
      }
    }
  },
};

function certificateKey(tls: any): string | undefined {
  if (!tls) return undefined;
  if (typeof tls.credentialName === 'string' && tls.credentialName !== '') return `credential:${tls.credentialName}`;
  if (tls.serverCertificate && tls.privateKey) return `file:${tls.serverCertificate}|${tls.privateKey}`;
  return undefined;
}

const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

/** IST0166: policies that select Kubernetes Gateway pods with a selector instead of a targetRef. */
export const kubernetesGatewaySelectorAnalyzer: Analyzer = {
  name: 'k8sgateway.SelectorAnalyzer',
  description: 'Checks that policies for Kubernetes Gateways use targetRefs, not selectors',
  analyze(ctx: AnalyzerContext) {
    for (const key of [KIND.AuthorizationPolicy, KIND.RequestAuthentication, KIND.Telemetry, KIND.WasmPlugin]) {
      for (const policy of ctx.index.of(key)) {
        if (policy.spec.targetRef !== undefined || list(policy.spec.targetRefs).length > 0) continue;
        const selector = policy.spec.selector?.matchLabels;
        if (!selector) continue;
        for (const w of ctx.index.workloads.select(stringMap(selector), policy.namespace)) {
          const gatewayName = w.labels[GATEWAY_NAME_LABEL];
          if (gatewayName === undefined) continue;
          ctx.report('IneffectiveSelector', policy,
            `Ineffective selector on Kubernetes Gateway ${gatewayName}: policies bind to Gateway API gateways through targetRefs; `
            + `replace the selector with targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: ${gatewayName}}]`);
        }
      }
    }
  },
};
