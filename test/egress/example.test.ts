// examples/egress synthesizes, passes the schema + CEL validation, and says what its comments say.
import { synthExample } from '../example-helper';
import { expectValidManifests } from '../harness/validate';

describe('examples/egress', () => {
  const manifests = synthExample('egress');
  const find = (kind: string, name: string) => manifests.find(m => m.kind === kind && m.metadata.name === name);

  test('synthesizes valid manifests', () => {
    expectValidManifests(manifests);
  });

  test('the payments namespace is registry-only and lists its external hosts', () => {
    const sidecar = find('Sidecar', 'default');
    expect(sidecar.metadata.namespace).toBe('payments');
    expect(sidecar.spec.outboundTrafficPolicy).toEqual({ mode: 'REGISTRY_ONLY' });
    expect(sidecar.spec.egress[0].hosts).toEqual(expect.arrayContaining([
      'ledger/*', './api.stripe.com', './rates.legacy-bank.example', './*.wikipedia.org', './hooks.slack.com', './settlement.partner.example',
    ]));
  });

  test('only the checkout identity reaches Stripe, through the egress gateway', () => {
    const policy = find('AuthorizationPolicy', 'payments.api-stripe-com');
    expect(policy.metadata.namespace).toBe('istio-system');
    expect(policy.spec.rules[0].from).toEqual([{ source: { principals: ['cluster.local/ns/payments/sa/checkout'] } }]);
  });

  test('the legacy API gets TLS from the gateway', () => {
    expect(find('DestinationRule', 'rates.legacy-bank.example').spec.trafficPolicy.tls.mode).toBe('SIMPLE');
    expect(find('ServiceEntry', 'rates-legacy-bank-example').spec.ports[0]).toEqual({ number: 80, name: 'http', protocol: 'HTTP', targetPort: 443 });
  });
});
