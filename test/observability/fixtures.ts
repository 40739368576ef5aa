// Small manifests for the diagram and plan tests: what any tool could have synthesized.

export function deployment(namespace: string, name: string, labels: Record<string, string>, serviceAccountName: string, image = `${name}:1`): any {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { serviceAccountName, containers: [{ name: 'app', image }] } },
    },
  };
}

export function service(namespace: string, name: string, selector: Record<string, string>, port = 8080): any {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { selector, ports: [{ name: 'http', port }] } };
}

export function virtualService(namespace: string, name: string, spec: any): any {
  return { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name, namespace }, spec };
}

export function policy(namespace: string, name: string, spec: any): any {
  return { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name, namespace }, spec };
}

const principal = (namespace: string, sa: string) => `cluster.local/ns/${namespace}/sa/${sa}`;

/**
 * A shop: web calls orders (v1/v2 at 80/20, v3 mirrored), orders calls payments; an ingress gateway exposes web;
 * payments reaches an external API through the egress gateway. Policies: orders admits web for GET and POST on
 * /orders*; payments admits orders only, and denies DELETE to everyone.
 */
export function shopManifests(): any[] {
  return [
    service('shop', 'web', { app: 'web' }),
    deployment('shop', 'web', { app: 'web' }, 'web', 'ghcr.io/acme/web:1.0.0'),
    service('shop', 'orders', { app: 'orders' }),
    ...['v1', 'v2', 'v3'].map(v => deployment('shop', `orders-${v}`, { app: 'orders', version: v }, 'orders', `ghcr.io/acme/orders:${v}`)),
    service('shop', 'payments', { app: 'payments' }),
    deployment('shop', 'payments', { app: 'payments' }, 'payments'),
    deployment('shop', 'loadgen', { app: 'loadgen' }, 'loadgen'),
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'orders', namespace: 'shop' },
      spec: {
        host: 'orders.shop.svc.cluster.local',
        trafficPolicy: { outlierDetection: { consecutive5xxErrors: 5 } },
        subsets: ['v1', 'v2', 'v3'].map(v => ({ name: v, labels: { version: v } })),
      },
    },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'orders', namespace: 'shop' },
      spec: {
        hosts: ['orders'],
        http: [
          { name: 'beta', match: [{ headers: { 'x-beta': { exact: '1' } } }, { headers: { cookie: { regex: '^(.*?;\\s*)?beta=yes(;.*)?$' } } }], route: [{ destination: { host: 'orders', subset: 'v2' } }] },
          {
            name: 'split',
            route: [{ destination: { host: 'orders', subset: 'v1' }, weight: 80 }, { destination: { host: 'orders', subset: 'v2' }, weight: 20 }],
            mirror: { host: 'orders', subset: 'v3' },
            mirrorPercentage: { value: 5 },
            timeout: '3s',
          },
        ],
      },
    },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'Gateway',
      metadata: { name: 'public', namespace: 'shop' },
      spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['shop/shop.acme.com'] }] },
    },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'web', namespace: 'shop' },
      spec: {
        hosts: ['shop.acme.com'],
        gateways: ['public'],
        http: [{ name: 'web', route: [{ destination: { host: 'web.shop.svc.cluster.local' } }] }],
      },
    },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: 'psp', namespace: 'shop' },
      spec: { hosts: ['api.psp.example'], ports: [{ number: 443, name: 'tls', protocol: 'TLS' }], resolution: 'DNS', location: 'MESH_EXTERNAL', exportTo: ['.'] },
    },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'psp', namespace: 'shop' },
      spec: {
        hosts: ['api.psp.example'],
        gateways: ['mesh', 'psp-egress'],
        tls: [{ match: [{ gateways: ['mesh'], port: 443, sniHosts: ['api.psp.example'] }], route: [{ destination: { host: 'istio-egressgateway.istio-system.svc.cluster.local', port: { number: 443 } } }] }],
        tcp: [{ match: [{ gateways: ['psp-egress'], port: 443 }], route: [{ destination: { host: 'api.psp.example', port: { number: 443 } } }] }],
      },
    },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'Gateway',
      metadata: { name: 'psp-egress', namespace: 'shop' },
      spec: { selector: { istio: 'egressgateway' }, servers: [{ port: { number: 443, name: 'tls', protocol: 'TLS' }, hosts: ['shop/api.psp.example'], tls: { mode: 'PASSTHROUGH' } }] },
    },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'Sidecar',
      metadata: { name: 'default', namespace: 'shop' },
      spec: { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } },
    },
    policy('shop', 'orders', {
      selector: { matchLabels: { app: 'orders' } },
      rules: [{ from: [{ source: { principals: [principal('shop', 'web')] } }], to: [{ operation: { methods: ['GET', 'POST'], paths: ['/orders*'] } }] }],
    }),
    policy('shop', 'payments', {
      selector: { matchLabels: { app: 'payments' } },
      rules: [{ from: [{ source: { principals: [principal('shop', 'orders')] } }] }],
    }),
    policy('shop', 'payments-no-delete', { selector: { matchLabels: { app: 'payments' } }, action: 'DENY', rules: [{ to: [{ operation: { methods: ['DELETE'] } }] }] }),
    policy('istio-system', 'psp-egress', {
      selector: { matchLabels: { istio: 'egressgateway' } },
      rules: [{ from: [{ source: { principals: [principal('shop', 'payments')] } }], when: [{ key: 'connection.sni', values: ['api.psp.example'] }] }],
    }),
  ];
}
