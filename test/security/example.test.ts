// examples/zero-trust synthesizes, passes the schema + CEL validation, and does what its comments say: proved with
// the AuthorizationEvaluator on the synthesized manifests, as users would in their own tests.
import { AuthorizationEvaluator, Caller, GatewayWorkload, RequestProtocol, ServiceIdentity } from '../../src';
import { synthExample } from '../example-helper';
import { expectValidManifests } from '../harness/validate';

describe('examples/zero-trust', () => {
  const manifests = synthExample('zero-trust');
  const authz = AuthorizationEvaluator.fromManifests(manifests);
  const find = (kind: string, namespace: string, name: string) =>
    manifests.find(m => m.kind === kind && m.metadata.namespace === namespace && m.metadata.name === name);
  const shop = (service: string) => ({ namespace: 'shop', service });
  const frontend = Caller.identity(ServiceIdentity.fromName('shop', 'frontend'));
  const ingress = Caller.identity(GatewayWorkload.defaultIngress().identity);
  const user = { issuer: 'https://auth.example.com', subject: 'alice', audiences: ['shop'] };

  test('synthesizes valid manifests, the namespaces first', () => {
    expectValidManifests(manifests);
    expect(manifests.filter(m => m.kind === 'Namespace').map(m => m.metadata)).toEqual([
      { name: 'reporting', labels: { 'istio-injection': 'enabled' } },
      { name: 'shop', labels: { 'istio-injection': 'enabled' } },
    ]);
  });

  test('the ingress gateway reaches the frontend\'s pages only, and the account pages with a valid JWT only', () => {
    expect(authz.isAllowed({ source: ingress, destination: shop('frontend'), path: '/static/app.js' })).toBe(true);
    expect(authz.isAllowed({ source: ingress, destination: shop('frontend'), path: '/internal/metrics' })).toBe(false);
    expect(authz.isAllowed({ source: ingress, destination: shop('orders'), path: '/orders/1' })).toBe(false);
    expect(authz.check({ source: ingress, destination: shop('frontend'), path: '/account/settings' }).policy).toBe('shop/frontend-require-jwt');
    expect(authz.isAllowed({ source: ingress, destination: shop('frontend'), path: '/account/settings', jwt: user })).toBe(true);
  });

  test('the frontend reads the catalog and places orders; nothing else', () => {
    expect(authz.isAllowed({ source: frontend, destination: shop('catalog'), method: 'GET', path: '/products/42' })).toBe(true);
    expect(authz.isAllowed({ source: frontend, destination: shop('catalog'), method: 'DELETE', path: '/products/42' })).toBe(false);
    expect(authz.isAllowed({ source: frontend, destination: shop('orders'), method: 'POST', path: '/orders' })).toBe(true);
    const catalog = Caller.identity(ServiceIdentity.fromName('shop', 'catalog'));
    expect(authz.isAllowed({ source: catalog, destination: shop('orders'), method: 'GET', path: '/orders/1' })).toBe(false);
  });

  test('refunds need the support group in the forwarded JWT', () => {
    const refund = { source: frontend, destination: shop('orders'), method: 'POST', path: '/refunds' };
    expect(authz.isAllowed(refund)).toBe(false);
    expect(authz.isAllowed({ ...refund, jwt: { ...user, claims: { groups: ['customers'] } } })).toBe(false);
    expect(authz.isAllowed({ ...refund, jwt: { ...user, claims: { groups: ['support'] } } })).toBe(true);
    expect(find('RequestAuthentication', 'shop', 'frontend-jwt').spec.jwtRules[0].forwardOriginalToken).toBe(true);
  });

  test('the analytics job of the reporting namespace reads orders, and its side of the call is open', () => {
    const analytics = Caller.identity(ServiceIdentity.fromName('reporting', 'analytics'));
    expect(authz.isAllowed({ source: analytics, destination: shop('orders'), method: 'GET', path: '/orders/7' })).toBe(true);
    expect(authz.isAllowed({ source: analytics, destination: shop('orders'), method: 'POST', path: '/orders' })).toBe(false);
    expect(find('Sidecar', 'reporting', 'default').spec.egress[0].hosts).toEqual(['./*', 'istio-system/*', 'shop/*']);
    expect(find('NetworkPolicy', 'reporting', 'analytics-allow').spec.egress[0].to[0].namespaceSelector)
      .toEqual({ matchLabels: { 'kubernetes.io/metadata.name': 'shop' } });
  });

  test('Prometheus scrapes the orders\' metrics port in plaintext, and only that port', () => {
    const scrape = { source: Caller.plaintext({ ip: '10.8.1.2' }), destination: shop('orders'), path: '/metrics' };
    expect(authz.isAllowed({ ...scrape, port: 9090 })).toBe(true);
    expect(authz.isAllowed({ ...scrape, port: 9090, protocol: RequestProtocol.TCP })).toBe(true);
    expect(authz.check({ ...scrape, port: 8080 }).reason).toMatch(/STRICT mutual TLS .* refuses the plaintext connection on port 8080/);
  });
});
