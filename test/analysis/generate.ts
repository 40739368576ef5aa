// A large, realistic mesh for the performance test: namespaces of services, each with two versions, a
// VirtualService, a DestinationRule, a Gateway and an AuthorizationPolicy per namespace.
export function generateMesh(namespaces: number, servicesPerNamespace: number): any[] {
  const out: any[] = [];
  for (let n = 0; n < namespaces; n++) {
    const ns = `team-${n}`;
    out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'istio-injection': 'enabled' } } });
    out.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'Gateway',
      metadata: { name: 'ingress', namespace: ns },
      spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: [`*.${ns}.example.com`] }] },
    });
    out.push({
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'allow-ingress', namespace: ns },
      spec: { rules: [{ from: [{ source: { principals: ['cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account'] } }] }] },
    });
    for (let s = 0; s < servicesPerNamespace; s++) {
      const app = `svc-${s}`;
      out.push({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: app, namespace: ns },
        spec: { selector: { app }, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] },
      });
      for (const version of ['v1', 'v2']) {
        out.push({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: `${app}-${version}`, namespace: ns },
          spec: {
            selector: { matchLabels: { app, version } },
            template: {
              metadata: { labels: { app, version } },
              spec: { serviceAccountName: app, containers: [{ name: app, image: `${app}:${version}`, ports: [{ containerPort: 8080 }] }] },
            },
          },
        });
      }
      out.push({
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: app, namespace: ns },
        spec: {
          hosts: [app, `${app}.${ns}.example.com`],
          gateways: ['mesh', 'ingress'],
          http: [
            { match: [{ headers: { 'x-canary': { exact: 'true' } } }], route: [{ destination: { host: app, subset: 'v2' } }] },
            { route: [{ destination: { host: app, subset: 'v1' }, weight: 90 }, { destination: { host: app, subset: 'v2' }, weight: 10 }] },
          ],
        },
      });
      out.push({
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name: app, namespace: ns },
        spec: { host: app, subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] },
      });
    }
  }
  return out;
}
