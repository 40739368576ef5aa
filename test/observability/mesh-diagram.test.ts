import { App, Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import { CanaryService, GatewayWorkload, Mesh, MeshDiagram, Telemetry, TrafficPlan } from '../../src';
import { exampleNames, synthExample } from '../example-helper';
import { deployment, policy, service, shopManifests, virtualService } from './fixtures';

const resources: kplus.ContainerResources = { cpu: { request: kplus.Cpu.millis(10), limit: kplus.Cpu.millis(100) } };
const lines = (text: string) => text.split('\n');
/** A VirtualService of host `one` in namespace `a`, sending everything to `host`. */
const oneRoutesTo = (host: string) => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'one', namespace: 'a' },
  spec: { hosts: ['one'], http: [{ route: [{ destination: { host } }] }] },
});
/** The Mermaid edges, as `from arrow|label| to`. */
const edges = (mermaid: string) => lines(mermaid).filter(l => / (-->|-\.->)/.test(l)).map(l => l.trim());

describe('MeshDiagram', () => {
  describe('on a shop with canary routes, a mirror, ingress, egress and policies', () => {
    const diagram = MeshDiagram.fromManifests(shopManifests());
    const mermaid = diagram.toMermaid();

    test('Mermaid snapshot', () => {
      expect(mermaid).toMatchSnapshot();
      expect(mermaid.startsWith('flowchart LR\n')).toBe(true);
    });

    test('DOT snapshot', () => {
      const dot = diagram.toDot();
      expect(dot).toMatchSnapshot();
      expect(dot.startsWith('digraph mesh {\n  rankdir=LR;')).toBe(true);
      expect(dot).toContain('subgraph "cluster_ns_shop" {');
      expect(dot).toContain('"svc_shop_orders" -> "ver_shop_orders_v3" [label="mirror 5%", style=dashed];');
      expect(dot).toContain('"svc_shop_web" -> "svc_shop_orders" [label="GET,POST /orders*", style=dotted');
    });

    test('services in namespace boxes, versions with their images, workloads without a Service', () => {
      expect(mermaid).toContain('subgraph ns_shop["namespace shop, outbound REGISTRY_ONLY"]');
      for (const s of ['orders', 'payments', 'web']) expect(mermaid).toContain(`svc_shop_${s}[["${s}"]]`);
      expect(mermaid).toContain('ver_shop_orders_v2(["orders v2<br/>orders:v2"])');
      expect(mermaid).toContain('wl_shop_loadgen["loadgen<br/>Deployment"]');
    });

    test('weights, matched routes and mirrors; a route repeating the default adds no edge', () => {
      expect(edges(mermaid)).toEqual(expect.arrayContaining([
        'svc_shop_orders -->|"80%"| ver_shop_orders_v1',
        'svc_shop_orders -->|"20%"| ver_shop_orders_v2',
        'svc_shop_orders -->|"header x-beta = 1 or cookie beta = yes"| ver_shop_orders_v2',
        'svc_shop_orders -.->|"mirror 5%"| ver_shop_orders_v3',
      ]));
      // Mirrors dashed, permissions dotted and green.
      const mirrorIndex = edges(mermaid).indexOf('svc_shop_orders -.->|"mirror 5%"| ver_shop_orders_v3');
      expect(mermaid).toContain(`linkStyle ${mirrorIndex} stroke-dasharray:8 4`);
    });

    test('gateways and the hosts they serve; egress through the egress gateway', () => {
      expect(edges(mermaid)).toEqual(expect.arrayContaining([
        'gw_istio_system_istio_ingressgateway -->|"shop.acme.com"| svc_shop_web',
        'gw_istio_system_istio_egressgateway -->|"TLS 443"| ext_api_psp_example',
      ]));
      expect(mermaid).toContain('subgraph external["outside the mesh"]');
    });

    test('who may call whom, from the authorization policies', () => {
      const allowed = edges(mermaid).filter(e => e.includes('-.->') && !e.includes('mirror'));
      expect(allowed).toEqual([
        'any -.->|"no policy"| svc_shop_web',
        'svc_shop_orders -.->|"any request except DELETE"| svc_shop_payments',
        'svc_shop_payments -.->|"may call"| ext_api_psp_example',
        'svc_shop_web -.->|"GET,POST /orders*"| svc_shop_orders',
      ]);
      const index = edges(mermaid).indexOf(allowed[0]);
      expect(mermaid).toContain(`linkStyle ${[0, 1, 2, 3].map(i => i + index).join(',')} stroke-dasharray:2 3`);
    });

    test('deterministic: the same text whatever the order of the manifests', () => {
      const reversed = MeshDiagram.fromManifests([...shopManifests()].reverse());
      expect(reversed.toMermaid()).toBe(mermaid);
      expect(reversed.toDot()).toBe(diagram.toDot());
      expect(MeshDiagram.fromManifests(shopManifests()).toMermaid()).toBe(mermaid);
    });

    test('toMarkdown fences the Mermaid source for GitHub', () => {
      expect(diagram.toMarkdown()).toBe(`\`\`\`mermaid\n${mermaid}\`\`\`\n`);
    });
  });

  describe('authorization', () => {
    const base = () => [
      service('app', 'api', { app: 'api' }),
      deployment('app', 'api', { app: 'api' }, 'api'),
      deployment('app', 'client', { app: 'client' }, 'client'),
      deployment('other', 'stranger', { app: 'stranger' }, 'stranger'),
    ];
    const allowEdges = (extra: any[], options = {}) => edges(MeshDiagram.fromManifests([...base(), ...extra], options).toMermaid()).filter(e => e.includes('-.->'));

    test('no policy: every caller', () => {
      expect(allowEdges([])).toEqual(['any -.->|"no policy"| svc_app_api']);
    });

    test('a DENY of GET (or of /) is an exception like any other method or path', () => {
      const allow = policy('app', 'allow-client', {
        selector: { matchLabels: { app: 'api' } },
        rules: [{ from: [{ source: { principals: ['cluster.local/ns/app/sa/client'] } }], to: [{ operation: { methods: ['POST', 'GET'] } }] }],
      });
      const deny = policy('app', 'deny-get', { selector: { matchLabels: { app: 'api' } }, action: 'DENY', rules: [{ to: [{ operation: { methods: ['GET'] } }] }] });
      expect(allowEdges([allow, deny])).toEqual(['wl_app_client -.->|"POST,GET except GET"| svc_app_api']);
    });

    test("a DENY singling out one caller's requests keeps that caller's own entry, with the exception", () => {
      const deny = policy('app', 'no-client-delete', {
        selector: { matchLabels: { app: 'api' } },
        action: 'DENY',
        rules: [{ from: [{ source: { principals: ['cluster.local/ns/app/sa/client'] } }], to: [{ operation: { methods: ['DELETE'] } }] }],
      });
      const found = allowEdges([deny]);
      expect(found).toContainEqual(expect.stringMatching(/^wl_app_client -\.->\|"any request except DELETE"\| svc_app_api$/));
      expect(found).toContainEqual(expect.stringMatching(/^any -\.->/));
    });

    test('a caller refused everything any caller may do is named on the edge of any caller', () => {
      const deny = policy('app', 'no-client', {
        selector: { matchLabels: { app: 'api' } }, action: 'DENY', rules: [{ from: [{ source: { principals: ['cluster.local/ns/app/sa/client'] } }] }],
      });
      expect(allowEdges([deny])).toEqual(['any -.->|"no policy, not app/client"| svc_app_api']);
    });

    test('a CUSTOM policy makes what it matches depend on its external authorizer', () => {
      const custom = policy('app', 'ext-authz', {
        selector: { matchLabels: { app: 'api' } }, action: 'CUSTOM', provider: { name: 'opa' }, rules: [{ to: [{ operation: { paths: ['/admin/*'] } }] }],
      });
      const allow = policy('app', 'allow-client', {
        selector: { matchLabels: { app: 'api' } },
        rules: [
          { from: [{ source: { principals: ['cluster.local/ns/app/sa/client'] } }], to: [{ operation: { paths: ['/admin/*'] } }] },
          { from: [{ source: { principals: ['cluster.local/ns/app/sa/client'] } }], to: [{ operation: { paths: ['/api/*'] } }] },
        ],
      });
      expect(allowEdges([custom, allow])).toEqual(['wl_app_client -.->|"/admin/* if opa allows or /api/*"| svc_app_api']);
      // Without ALLOW policies: any request any caller makes, the matched ones subject to the authorizer.
      const everything = policy('app', 'ext-authz', { action: 'CUSTOM', provider: { name: 'opa' }, rules: [{}] });
      expect(allowEdges([everything])).toEqual(['any -.->|"any request if opa allows"| svc_app_api']);
    });

    test('a CUSTOM policy at the egress gateway: the external host depends on its authorizer', () => {
      const custom = policy('istio-system', 'egress-authz', {
        selector: { matchLabels: { istio: 'egressgateway' } },
        action: 'CUSTOM',
        provider: { name: 'opa' },
        rules: [{ when: [{ key: 'connection.sni', values: ['api.psp.example'] }] }],
      });
      const found = edges(MeshDiagram.fromManifests([...shopManifests(), custom]).toMermaid());
      expect(found).toContainEqual('svc_shop_payments -.->|"any request if opa allows"| ext_api_psp_example');
    });

    test('an ALLOW policy without rules admits nobody', () => {
      expect(allowEdges([policy('app', 'deny-all', { selector: { matchLabels: { app: 'api' } } })])).toEqual([]);
    });

    test('a namespace-wide policy, a source namespace, a notPrincipal', () => {
      const p = policy('app', 'same-namespace', {
        rules: [{ from: [{ source: { namespaces: ['app'], notPrincipals: ['cluster.local/ns/app/sa/api'] } }] }],
      });
      expect(allowEdges([p])).toEqual(['wl_app_client -.->|"may call"| svc_app_api']);
    });

    test('a rule without from admits any caller, under its conditions', () => {
      const p = policy('app', 'health', { rules: [{ to: [{ operation: { paths: ['/healthz'], ports: ['8080'] } }] }] });
      expect(allowEdges([p])).toEqual(['any -.->|"/healthz port 8080"| svc_app_api']);
    });

    test('JWT and when conditions are shown; without a RequestAuthentication no JWT is validated, so none matches', () => {
      const p = policy('app', 'jwt', {
        rules: [{ from: [{ source: { requestPrincipals: ['https://idp/*'] } }], when: [{ key: 'request.auth.claims[group]', values: ['admin'] }] }],
      });
      const ra = {
        apiVersion: 'security.istio.io/v1',
        kind: 'RequestAuthentication',
        metadata: { name: 'idp', namespace: 'app' },
        spec: { jwtRules: [{ issuer: 'https://idp', jwksUri: 'https://idp/jwks' }] },
      };
      expect(allowEdges([p, ra])).toEqual(['any -.->|"JWT https://idp/* claim group in admin"| svc_app_api']);
      expect(allowEdges([p])).toEqual([]);
    });

    test('STRICT mutual TLS refuses callers without an identity', () => {
      const strict = { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'app' }, spec: { mtls: { mode: 'STRICT' } } };
      expect(allowEdges([strict])).toEqual([
        'gw_istio_system_istio_egressgateway -.->|"no policy"| svc_app_api',
        'gw_istio_system_istio_ingressgateway -.->|"no policy"| svc_app_api',
        'svc_app_api -.->|"no policy"| svc_app_api',
        'wl_app_client -.->|"no policy"| svc_app_api',
        'wl_other_stranger -.->|"no policy"| svc_app_api',
      ].filter(e => !e.startsWith('svc_app_api')));
    });

    test('policies for one version only: the permission says which workload', () => {
      const m = [
        service('app', 'api', { app: 'api' }),
        deployment('app', 'api-v1', { app: 'api', version: 'v1' }, 'api'),
        deployment('app', 'api-v2', { app: 'api', version: 'v2' }, 'api'),
        deployment('app', 'client', { app: 'client' }, 'client'),
        policy('app', 'v2-locked', { selector: { matchLabels: { version: 'v2' } }, rules: [{ from: [{ source: { principals: ['cluster.local/ns/app/sa/api'] } }] }] }),
      ];
      expect(edges(MeshDiagram.fromManifests(m).toMermaid()).filter(e => e.includes('-.->'))).toEqual([
        'any -.->|"any request (api-v1 only)"| svc_app_api',
      ]);
    });

    test('a mesh-wide policy in the root namespace applies; one for other labels does not', () => {
      const meshWide = policy('istio-system', 'only-client', { rules: [{ from: [{ source: { principals: ['cluster.local/ns/app/sa/client'] } }] }] });
      expect(allowEdges([meshWide])).toEqual(['wl_app_client -.->|"may call"| svc_app_api']);
      const elsewhere = policy('app', 'other', { selector: { matchLabels: { app: 'nothing' } }, rules: [{}] });
      expect(allowEdges([elsewhere])).toEqual(['any -.->|"no policy"| svc_app_api']);
    });

    test('an unconditional DENY removes the caller; wildcards in principals match', () => {
      const allow = policy('app', 'allow', { rules: [{ from: [{ source: { principals: ['cluster.local/ns/*'] } }] }] });
      const deny = policy('app', 'deny', { action: 'DENY', rules: [{ from: [{ source: { namespaces: ['other'] } }] }] });
      expect(allowEdges([allow])).toEqual([
        'gw_istio_system_istio_egressgateway -.->|"may call"| svc_app_api',
        'gw_istio_system_istio_ingressgateway -.->|"may call"| svc_app_api',
        'svc_app_api -.->|"may call"| svc_app_api',
        'wl_app_client -.->|"may call"| svc_app_api',
        'wl_other_stranger -.->|"may call"| svc_app_api',
      ].filter(e => !e.startsWith('svc_app_api')));
      expect(allowEdges([allow, deny])).toEqual([
        'gw_istio_system_istio_egressgateway -.->|"may call"| svc_app_api',
        'gw_istio_system_istio_ingressgateway -.->|"may call"| svc_app_api',
        'wl_app_client -.->|"may call"| svc_app_api',
      ]);
    });

    test('a principal no manifest runs as is drawn as a service account', () => {
      const p = policy('app', 'remote', { rules: [{ from: [{ source: { principals: ['cluster.local/ns/batch/sa/reporter'] } }] }] });
      const mermaid = MeshDiagram.fromManifests([...base(), p]).toMermaid();
      expect(mermaid).toContain('id_batch_reporter>"service account reporter"]');
      expect(edges(mermaid)).toContain('id_batch_reporter -.->|"may call"| svc_app_api');
    });

    test('the trust domain given is the one principals are matched in', () => {
      const p = policy('app', 'td', { rules: [{ from: [{ source: { principals: ['prod.acme/ns/app/sa/client'] } }] }] });
      expect(allowEdges([p], { trustDomain: 'prod.acme' })).toEqual(['wl_app_client -.->|"may call"| svc_app_api']);
      expect(allowEdges([p])).toEqual(['id_prod_acme_ns_app_sa_client -.->|"may call"| svc_app_api']);
    });

    test('the ingress gateway identity calls as the gateway node', () => {
      const p = policy('app', 'from-ingress', { rules: [{ from: [{ source: { principals: ['cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account'] } }] }] });
      const gateway = { apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'gw', namespace: 'app' }, spec: { selector: { istio: 'ingressgateway' }, servers: [] } };
      expect(allowEdges([p, gateway])).toEqual(['gw_istio_system_istio_ingressgateway -.->|"may call"| svc_app_api']);
    });

    test('custom gateway workloads', () => {
      const gw = GatewayWorkload.custom({ labels: { app: 'edge' }, namespace: 'edge', serviceAccountName: 'edge-sa', serviceName: 'edge' });
      const gateway = { apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'gw', namespace: 'app' }, spec: { selector: { app: 'edge' }, servers: [] } };
      const mermaid = MeshDiagram.fromManifests([...base(), gateway], { gateways: [gw] }).toMermaid();
      expect(mermaid).toContain('gw_edge_edge{{"edge<br/>ingress gateway"}}');
    });
  });

  describe('routes only some namespaces\' callers take', () => {
    const cart = () => [
      service('shop', 'cart', { app: 'cart' }),
      deployment('shop', 'cart-v1', { app: 'cart', version: 'v1' }, 'cart'),
      deployment('shop', 'cart-v2', { app: 'cart', version: 'v2' }, 'cart'),
      service('shop', 'cart-v2', { app: 'cart', version: 'v2' }),
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name: 'cart', namespace: 'shop' },
        spec: { host: 'cart.shop.svc.cluster.local', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] },
      },
    ];

    test('a VirtualService exported to its own namespace: the edges say whose callers', () => {
      const vs = virtualService('shop', 'cart', {
        hosts: ['cart'],
        exportTo: ['.'],
        http: [{ route: [{ destination: { host: 'cart', subset: 'v1' }, weight: 90 }, { destination: { host: 'cart', subset: 'v2' }, weight: 10 }] }],
      });
      expect(edges(MeshDiagram.fromManifests([...cart(), vs]).toMermaid())).toEqual(expect.arrayContaining([
        'svc_shop_cart -->|"90% (callers in shop)"| ver_shop_cart_v1',
        'svc_shop_cart -->|"10% (callers in shop)"| ver_shop_cart_v2',
      ]));
      // Exported nowhere: no caller takes them.
      const hidden = virtualService('shop', 'cart', { hosts: ['cart'], exportTo: ['~'], http: [{ route: [{ destination: { host: 'cart', subset: 'v2' } }] }] });
      expect(edges(MeshDiagram.fromManifests([...cart(), hidden]).toMermaid()).filter(e => e.startsWith('svc_shop_cart -->'))).toEqual([]);
    });

    test('a consumer HTTPRoute (another namespace\'s Service): the callers of its own namespace', () => {
      const route = {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'cart-canary', namespace: 'web' },
        spec: { parentRefs: [{ group: '', kind: 'Service', name: 'cart', namespace: 'shop', port: 8080 }], rules: [{ backendRefs: [{ name: 'cart-v2', namespace: 'shop', port: 8080 }] }] },
      };
      const m = [...cart(), route];
      expect(edges(MeshDiagram.fromManifests(m).toMermaid())).toContain('svc_shop_cart -->|"100% (callers in web)"| ver_shop_cart_v2');
      expect(TrafficPlan.fromManifests(m, { analyze: false }).toMarkdown()).toContain('Routes of HTTPRoute web/cart-canary (mesh), for in-mesh callers in web only:');
    });
  });

  describe('Gateway API', () => {
    test('HTTPRoute weights are relative; mirrors filters and per-version Services become versions', () => {
      const manifests = [
        service('shop', 'cart', { app: 'cart' }),
        service('shop', 'cart-v1', { app: 'cart', version: 'v1' }),
        service('shop', 'cart-v2', { app: 'cart', version: 'v2' }),
        deployment('shop', 'cart-v1', { app: 'cart', version: 'v1' }, 'cart'),
        deployment('shop', 'cart-v2', { app: 'cart', version: 'v2' }, 'cart'),
        {
          apiVersion: 'gateway.networking.k8s.io/v1',
          kind: 'HTTPRoute',
          metadata: { name: 'cart', namespace: 'shop' },
          spec: {
            parentRefs: [{ group: '', kind: 'Service', name: 'cart', port: 8080 }, { kind: 'Gateway', name: 'edge' }],
            hostnames: ['cart.acme.com'],
            rules: [{
              backendRefs: [{ name: 'cart-v1', port: 8080, weight: 3 }, { name: 'cart-v2', port: 8080, weight: 1 }],
              filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'cart-v2', port: 8080 }, percent: 10 } }],
            }],
          },
        },
        {
          apiVersion: 'gateway.networking.k8s.io/v1',
          kind: 'Gateway',
          metadata: { name: 'edge', namespace: 'shop' },
          spec: { gatewayClassName: 'istio', listeners: [{ name: 'http', port: 80, protocol: 'HTTP', hostname: 'cart.acme.com' }] },
        },
      ];
      const mermaid = MeshDiagram.fromManifests(manifests).toMermaid();
      expect(mermaid).toMatchSnapshot();
      expect(mermaid).not.toContain('svc_shop_cart_v1');
      expect(edges(mermaid)).toEqual(expect.arrayContaining([
        'svc_shop_cart -->|"75%"| ver_shop_cart_v1',
        'svc_shop_cart -->|"25%"| ver_shop_cart_v2',
        'svc_shop_cart -.->|"mirror 10%"| ver_shop_cart_v2',
        'gw_shop_edge -->|"cart.acme.com"| svc_shop_cart',
      ]));
      expect(mermaid).toContain('gw_shop_edge{{"edge<br/>gateway class istio"}}');
    });
  });

  describe('reading', () => {
    test('typed Lists (VirtualServiceList) are read as the analyzer reads them', () => {
      const vs = oneRoutesTo('two');
      const list = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualServiceList', items: [vs] };
      const m = [service('a', 'one', { app: 'one' }), deployment('a', 'one', { app: 'one' }, 'one'), service('a', 'two', { app: 'two' }), deployment('a', 'two', { app: 'two' }, 'two')];
      expect(MeshDiagram.fromManifests([...m, list]).toMermaid()).toBe(MeshDiagram.fromManifests([...m, vs]).toMermaid());
    });

    test('a VirtualService bound to gateways only does not route in-mesh callers', () => {
      const m = [
        service('shop', 'reviews', { app: 'reviews' }),
        deployment('shop', 'reviews-v1', { app: 'reviews', version: 'v1' }, 'reviews'),
        deployment('shop', 'reviews-v2', { app: 'reviews', version: 'v2' }, 'reviews'),
        {
          apiVersion: 'networking.istio.io/v1',
          kind: 'DestinationRule',
          metadata: { name: 'reviews', namespace: 'shop' },
          spec: { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] },
        },
        {
          apiVersion: 'networking.istio.io/v1',
          kind: 'VirtualService',
          metadata: { name: 'edge', namespace: 'shop' },
          spec: { hosts: ['reviews.shop.svc.cluster.local'], gateways: ['gw'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v2' } }] }] },
        },
      ];
      expect(edges(MeshDiagram.fromManifests(m).toMermaid()).filter(e => e.startsWith('svc_shop_reviews -->'))).toEqual([]);
    });

    test('an HTTPRoute path without a type is a prefix, the CRD\'s default', () => {
      const route = {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'one', namespace: 'a' },
        spec: { parentRefs: [{ group: '', kind: 'Service', name: 'one', port: 80 }], rules: [{ matches: [{ path: { value: '/v1' } }], backendRefs: [{ name: 'two', port: 80 }] }] },
      };
      const m = [service('a', 'one', { app: 'one' }), deployment('a', 'one', { app: 'one' }, 'one'), service('a', 'two', { app: 'two' }), deployment('a', 'two', { app: 'two' }, 'two'), route];
      expect(MeshDiagram.fromManifests(m).toMermaid()).toContain('path ^= /v1');
    });

    test('List objects are flattened; non-objects are ignored; short host names resolve in the route\'s namespace', () => {
      const list = { apiVersion: 'v1', kind: 'List', items: [service('a', 'one', { app: 'one' }), deployment('a', 'one', { app: 'one' }, 'one')] };
      const vs = {
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: 'one', namespace: 'a' },
        spec: { hosts: ['one'], http: [{ route: [{ destination: { host: 'one' }, weight: 50 }, { destination: { host: 'two.b' }, weight: 50 }] }] },
      };
      const mermaid = MeshDiagram.fromManifests([list, null, 'text', { kind: 'NoName' }, vs, service('b', 'two', { app: 'two' })]).toMermaid();
      expect(edges(mermaid)).toEqual(expect.arrayContaining(['svc_a_one -->|"50%"| svc_b_two']));
      expect(edges(mermaid).some(e => e.startsWith('svc_a_one -->|"50%"| svc_a_one'))).toBe(false);
    });

    test('a destination no manifest declares is drawn as an unknown host', () => {
      const vs = oneRoutesTo('legacy.corp.example');
      const mermaid = MeshDiagram.fromManifests([service('a', 'one', { app: 'one' }), vs]).toMermaid();
      expect(mermaid).toContain('host_legacy_corp_example["legacy.corp.example<br/>unknown host"]');
      expect(edges(mermaid)).toContain('svc_a_one -->|"100%"| host_legacy_corp_example');
    });

    test('quotes, pipes and angle brackets in labels are escaped', () => {
      const vs = {
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: 'one', namespace: 'a' },
        spec: { hosts: ['one'], http: [{ match: [{ uri: { regex: '/(a|b)"<x>' } }], route: [{ destination: { host: 'two' } }] }, { route: [{ destination: { host: 'one' } }] }] },
      };
      const diagram = MeshDiagram.fromManifests([service('a', 'one', { app: 'one' }), service('a', 'two', { app: 'two' }), vs]);
      expect(edges(diagram.toMermaid())).toContain('svc_a_one -->|"path ~ /(a#124;b)#quot;#lt;x#gt;"| svc_a_two');
      expect(diagram.toDot()).toContain('[label="path ~ /(a|b)\\"<x>"];');
    });

    test('an empty input gives an empty, valid diagram', () => {
      expect(MeshDiagram.fromManifests([]).toMermaid()).toBe('flowchart LR\n');
      expect(MeshDiagram.fromManifests([]).toDot()).toMatch(/^digraph mesh \{[\s\S]*\}\n$/);
    });

    test('a non-array is refused', () => {
      expect(() => MeshDiagram.fromManifests({ kind: 'Service' } as any)).toThrow(/manifests got object: give an array of Kubernetes objects/);
    });
  });

  describe('fromApp', () => {
    test('synthesizes the app and reads its Mesh settings', () => {
      const app = new App({ outdir: Testing.app().outdir });
      new Mesh(app, 'Mesh', { trustDomain: 'prod.acme', clusterDomain: 'corp.local' });
      const chart = new Chart(app, 'shop', { namespace: 'shop' });
      new CanaryService(chart, 'Reviews', {
        versions: [{ name: 'v1', image: 'reviews:1' }, { name: 'v2', image: 'reviews:2' }, { name: 'v3', image: 'reviews:3' }],
        weights: { v1: 70, v2: 30 },
        mirror: { version: 'v3', percentage: 25 },
        resources,
      });
      const mermaid = MeshDiagram.fromApp(app).toMermaid();
      expect(edges(mermaid)).toEqual(expect.arrayContaining([
        'svc_shop_reviews -->|"70%"| ver_shop_reviews_v1',
        'svc_shop_reviews -->|"30%"| ver_shop_reviews_v2',
        'svc_shop_reviews -.->|"mirror 25%"| ver_shop_reviews_v3',
      ]));
      // Hosts are in the Mesh's cluster domain; reading with the default one would not find the service.
      expect(MeshDiagram.fromManifests(Testing.synth(chart)).toMermaid()).not.toContain('ver_shop_reviews_v1');
      expect(MeshDiagram.fromManifests(Testing.synth(chart), { clusterDomain: 'corp.local' }).toMermaid()).toContain('ver_shop_reviews_v1');
    });

    test('invalid apps fail as they would at synth', () => {
      const app = Testing.app();
      const chart = new Chart(app, 'c');
      new Telemetry(chart, 'Empty');
      expect(() => MeshDiagram.fromApp(app)).toThrow(/c\/Empty: the Telemetry configures nothing/);
    });
  });

  describe.each(exampleNames)('example %s', name => {
    let manifests: any[] = [];
    let diagram: MeshDiagram;
    let mermaid = '';
    beforeAll(() => {
      manifests = synthExample(name);
      diagram = MeshDiagram.fromManifests(manifests);
      mermaid = diagram.toMermaid();
    });
    const text = (labels: string) => lines(mermaid).some(l => l.includes(labels));

    test('snapshot, deterministic', () => {
      expect(mermaid).toMatchSnapshot();
      expect(MeshDiagram.fromManifests(synthExample(name)).toMermaid()).toBe(mermaid);
      expect(MeshDiagram.fromManifests([...manifests].reverse()).toDot()).toBe(diagram.toDot());
    });

    test('every Service is drawn, as a service or a version', () => {
      for (const s of manifests.filter(m => m.kind === 'Service' && m.apiVersion === 'v1')) {
        const version = s.spec.selector?.version;
        const shown = text(`[["${s.metadata.name}"]]`) || (version && text(` ${version}<br/>`));
        expect({ service: s.metadata.name, shown }).toEqual({ service: s.metadata.name, shown: true });
      }
    });

    test('every route weight is on an edge', () => {
      const weights: number[] = [];
      for (const vs of manifests.filter(m => m.kind === 'VirtualService')) {
        for (const r of [...(vs.spec.http ?? []), ...(vs.spec.tls ?? []), ...(vs.spec.tcp ?? [])]) {
          if (r.route?.length > 1) weights.push(...r.route.map((d: any) => d.weight));
        }
      }
      for (const route of manifests.filter(m => m.kind === 'HTTPRoute')) {
        for (const rule of route.spec.rules ?? []) {
          const total = (rule.backendRefs ?? []).reduce((s: number, b: any) => s + (b.weight ?? 1), 0);
          if (rule.backendRefs?.length > 1) weights.push(...rule.backendRefs.map((b: any) => Math.round(((b.weight ?? 1) / total) * 100)));
        }
      }
      for (const w of weights) expect(edges(mermaid).some(e => e.includes(`|"${w}%"|`))).toBe(true);
    });

    test('every caller a policy admits has a dotted edge', () => {
      const policies = manifests.filter(m => m.kind === 'AuthorizationPolicy' && (m.spec.action ?? 'ALLOW') === 'ALLOW');
      const workloads = manifests.filter(m => m.kind === 'Deployment');
      for (const p of policies) {
        for (const rule of p.spec.rules ?? []) {
          for (const f of rule.from ?? []) {
            const principals: string[] = f.source?.principals ?? [];
            const namespaces: string[] = f.source?.namespaces ?? [];
            const callers = workloads.filter(w => principals.includes(`cluster.local/ns/${w.metadata.namespace}/sa/${w.spec.template.spec.serviceAccountName}`)
              || namespaces.includes(w.metadata.namespace));
            for (const w of callers) {
              const app = w.spec.template.metadata.labels.app ?? w.metadata.name;
              const from = edges(mermaid).filter(e => e.includes('-.->') && (e.startsWith(`svc_${w.metadata.namespace}_${app} `) || e.startsWith(`wl_${w.metadata.namespace}_${w.metadata.name.replace(/-/g, '_')} `)));
              const found = { policy: p.metadata.name, caller: w.metadata.name, edges: from.length > 0 };
              expect(found).toEqual({ ...found, edges: true });
            }
          }
        }
      }
    });
  });
});
