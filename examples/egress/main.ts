// A payments namespace that may reach only the external services it declares; everything else is blocked.
import { App, Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import {
  EgressControl, EgressRoute, Mesh, MeshAnalysis, ServiceEntryResolution, ServiceIdentity, ServicePort,
} from 'cdk8s-istio';

const app = new App();
// Offline istioctl-grade analysis at synth: a broken reference fails `cdk8s synth` with the finding.
new MeshAnalysis(app, 'MeshAnalysis');
new Mesh(app, 'Mesh');
const chart = new Chart(app, 'payments', { namespace: 'payments', disableResourceNameHashes: true });

const checkoutAccount = new kplus.ServiceAccount(chart, 'CheckoutAccount', { metadata: { name: 'checkout' } });
new kplus.Deployment(chart, 'Checkout', {
  serviceAccount: checkoutAccount,
  containers: [{
    image: 'ghcr.io/example/checkout:3.2.0',
    portNumber: 8080,
    resources: {
      cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(500) },
      memory: { request: Size.mebibytes(128), limit: Size.mebibytes(256) },
    },
  }],
});

// REGISTRY_ONLY for the namespace: only the hosts below (and in-mesh services of this namespace) are reachable.
const egress = new EgressControl(chart, 'Egress', { meshNamespaces: ['ledger'] });

// The card processor: the application's own TLS, through the egress gateway, for the checkout identity only.
egress.allowHost('api.stripe.com', {
  route: EgressRoute.viaGatewayTlsPassthrough(),
  fromIdentities: [ServiceIdentity.fromServiceAccount(checkoutAccount)],
});

// A legacy rates API the application calls over plain HTTP: the egress gateway upgrades it to TLS, verifying the
// server against the gateway image's CA bundle (named, so istioctl analyze has no IST0128 to report).
egress.allowHost('rates.legacy-bank.example', {
  route: EgressRoute.viaGatewayTlsOrigination({ caCertificates: '/etc/ssl/certs/ca-certificates.crt' }),
});

// Every Wikipedia language site, through the gateway, served by www.wikipedia.org.
egress.allowHost('*.wikipedia.org', { route: EgressRoute.viaGatewayTlsPassthrough({ servingHost: 'www.wikipedia.org' }) });

// Webhooks straight from the sidecar.
egress.allowHost('hooks.slack.com');

// A partner's settlement database at fixed addresses.
egress.allowHost('settlement.partner.example', {
  ports: [ServicePort.tcp(5432, { name: 'tcp-postgres' })],
  resolution: ServiceEntryResolution.STATIC,
  endpoints: [{ address: '203.0.113.10' }, { address: '203.0.113.11' }],
  addresses: ['203.0.113.10', '203.0.113.11'],
});

app.synth();
