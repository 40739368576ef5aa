// A shop namespace where every call is mutually authenticated and only the declared calls are allowed.
import { App, Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import { Condition, Mesh, Source, ZeroTrustNamespace } from 'cdk8s-istio';

const app = new App();
new Mesh(app, 'Mesh');

const resources: kplus.ContainerResources = {
  cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(500) },
  memory: { request: Size.mebibytes(128), limit: Size.mebibytes(256) },
};

/** A Deployment running as its own ServiceAccount (its mesh identity), behind a Service on port 80. */
function service(chart: Chart, name: string, ports: number[] = [8080]): kplus.Deployment {
  const account = new kplus.ServiceAccount(chart, `${name}-account`, { metadata: { name } });
  const deployment = new kplus.Deployment(chart, name, {
    metadata: { name },
    serviceAccount: account,
    podMetadata: { labels: { app: name } },
    containers: [{ name, image: `ghcr.io/example/${name}:1.0.0`, ports: ports.map(number => ({ number })), resources }],
  });
  deployment.exposeViaService({ name, ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
  return deployment;
}

// The shop: STRICT mTLS, deny-by-default, NetworkPolicies and a Sidecar that keep each proxy to its own namespace.
const shop = new Chart(app, 'shop', { namespace: 'shop', disableResourceNameHashes: true });
const zeroTrust = new ZeroTrustNamespace(shop, 'ZeroTrust', { metricsScraperNamespaces: ['monitoring'] });
const frontend = zeroTrust.addWorkload(service(shop, 'frontend'), { serviceName: 'frontend' });
const catalog = zeroTrust.addWorkload(service(shop, 'catalog'), { serviceName: 'catalog' });
const orders = zeroTrust.addWorkload(service(shop, 'orders', [8080, 9090]), { serviceName: 'orders' });

// The entry service: the ingress gateway may reach its pages only, and the account pages need a signed-in user.
frontend.allowFrom(Source.ingressGateway(), { methods: ['GET', 'POST'], paths: ['/', '/static/*', '/account/*'] });
frontend.requireJwt({
  issuer: 'https://auth.example.com',
  jwksUri: 'https://auth.example.com/.well-known/jwks.json',
  audiences: ['shop'],
  // The frontend passes the user's token on to the services it calls (orders checks it for refunds).
  forwardOriginalToken: true,
  paths: ['/account/*'],
});

// The frontend reads the catalog, and reads and places orders; nothing else reaches them.
catalog.allowFrom(frontend, { methods: ['GET'], paths: ['/products', '/products/*'] });
orders.allowFrom(frontend, { methods: ['GET', 'POST'], paths: ['/orders', '/orders/*'] });
// Refunds only for the support staff, by their JWT's groups claim, through the frontend.
orders.allowFrom(frontend, {
  methods: ['POST'],
  paths: ['/refunds'],
  when: [Condition.jwtClaim('groups', { values: ['support'] })],
});
orders.requireJwt({ issuer: 'https://auth.example.com', jwksUri: 'https://auth.example.com/.well-known/jwks.json', paths: ['/refunds'] });

// Prometheus in `monitoring` scrapes the orders' own metrics port in plaintext (STRICT would refuse it).
orders.acceptPlaintextOnPort(9090, { fromNamespaces: ['monitoring'] });

// A reporting namespace, zero trust too: its analytics job reads orders. Declaring the call on `orders` also opens
// the analytics pods' egress and adds `shop` to the reporting Sidecar.
const reporting = new Chart(app, 'reporting', { namespace: 'reporting', disableResourceNameHashes: true });
const reportingZeroTrust = new ZeroTrustNamespace(reporting, 'ZeroTrust');
const analytics = reportingZeroTrust.addWorkload(service(reporting, 'analytics'), { serviceName: 'analytics' });
orders.allowFrom(analytics, { methods: ['GET'], paths: ['/orders/*'] });

app.synth();
