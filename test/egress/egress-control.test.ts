import { App, Chart, Testing } from 'cdk8s';
import {
  AllowHostOptions, DataplaneMode, EgressControl, EgressControlProps, EgressRoute, GatewayWorkload, Host, Mesh, MeshAnalyzer,
  OutboundTrafficPolicy, PortProtocol, ResiliencePreset, ResilientUpstream, ServiceEntryResolution, ServiceIdentity,
  ServicePort, UpstreamTls, ZeroTrustNamespace,
} from '../../src';
import { expectValidManifests } from '../harness/validate';

function chart(app: App = Testing.app()): Chart {
  return new Chart(app, 'test', { namespace: 'shop' });
}

function ambientChart(): Chart {
  const app = Testing.app();
  new Mesh(app, 'Mesh', { dataplaneMode: DataplaneMode.AMBIENT });
  return chart(app);
}

/** Synthesizes the chart and validates every object against the pinned CRDs (schema and CEL). */
function synth(c: Chart): any[] {
  const manifests = Testing.synth(c);
  expectValidManifests(manifests);
  return manifests;
}

/** One EgressControl in namespace `shop` allowing `hosts`, synthesized and validated. */
function allow(hosts: { [host: string]: AllowHostOptions }, props: EgressControlProps = {}, c: Chart = chart()): any[] {
  const egress = new EgressControl(c, 'Egress', props);
  for (const [host, options] of Object.entries(hosts)) egress.allowHost(host, options);
  return synth(c);
}

const byKind = (manifests: any[], kind: string) => manifests.filter(m => m.kind === kind);
const one = (manifests: any[], kind: string, name?: string) => {
  const found = byKind(manifests, kind).filter(m => name === undefined || m.metadata.name === name);
  expect(found).toHaveLength(1);
  return found[0];
};

const GATEWAY_HOST = 'istio-egressgateway.istio-system.svc.cluster.local';

describe('EgressControl: direct', () => {
  test('registry-only Sidecar and a ServiceEntry per allowed host', () => {
    const m = allow({
      'api.stripe.com': {},
      'httpbin.org': { ports: [ServicePort.http(80), ServicePort.https(443)] },
    });
    expect(m).toMatchSnapshot();
    expect(m.map(o => o.kind)).toEqual(['Sidecar', 'ServiceEntry', 'ServiceEntry']);
    expect(one(m, 'Sidecar').metadata).toEqual({ name: 'default', namespace: 'shop' });
    expect(one(m, 'Sidecar').spec).toEqual({
      outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' },
      egress: [{ hosts: ['./*', 'istio-system/*', './api.stripe.com', './httpbin.org'] }],
    });
    expect(one(m, 'ServiceEntry', 'api-stripe-com').spec).toEqual({
      hosts: ['api.stripe.com'],
      ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }],
      location: 'MESH_EXTERNAL',
      resolution: 'DNS',
      exportTo: ['.'],
    });
    expect(one(m, 'ServiceEntry', 'httpbin-org').spec.ports).toEqual([
      { number: 80, name: 'http', protocol: 'HTTP' },
      { number: 443, name: 'https', protocol: 'HTTPS' },
    ]);
  });

  test('no host allowed: the namespace reaches nothing outside the mesh', () => {
    const m = allow({});
    expect(m).toEqual([expect.objectContaining({ kind: 'Sidecar' })]);
    expect(m[0].spec.egress[0].hosts).toEqual(['./*', 'istio-system/*']);
  });

  test('allowHost returns the host\'s objects; hosts allowed after construction are in the Sidecar', () => {
    // GIVEN
    const c = chart();
    const egress = new EgressControl(c, 'Egress');
    // WHEN
    const stripe = egress.allowHost('api.stripe.com');
    // THEN
    expect(stripe.host.name).toBe('api.stripe.com');
    expect(stripe.route.viaEgressGateway).toBe(false);
    expect(stripe.serviceEntry.kind).toBe('ServiceEntry');
    expect(stripe.gateway).toBeUndefined();
    expect(stripe.virtualService).toBeUndefined();
    expect(stripe.authorizationPolicy).toBeUndefined();
    expect(stripe.destinationRules).toEqual([]);
    expect(egress.allowedServices).toEqual([stripe]);
    expect(egress.sidecar?.kind).toBe('Sidecar');
    expect(one(synth(c), 'Sidecar').spec.egress[0].hosts).toContain('./api.stripe.com');
  });

  test('the namespace prop, the chart\'s namespace, else default', () => {
    const inProp = allow({ 'api.stripe.com': {} }, { namespace: 'payments' });
    expect(inProp.map(o => o.metadata.namespace)).toEqual(['payments', 'payments']);
    const c = new Chart(Testing.app(), 'nons');
    new EgressControl(c, 'Egress');
    expect(synth(c)[0].metadata.namespace).toBe('default');
  });

  test('ALLOW_ANY opt-out and other namespaces\' mesh services', () => {
    const m = allow({ 'api.stripe.com': {} }, { outboundTrafficPolicy: OutboundTrafficPolicy.ALLOW_ANY, meshNamespaces: ['billing', 'auth'] });
    expect(one(m, 'Sidecar').spec).toEqual({
      outboundTrafficPolicy: { mode: 'ALLOW_ANY' },
      egress: [{ hosts: ['./*', 'istio-system/*', 'billing/*', 'auth/*', './api.stripe.com'] }],
    });
  });

  test('the Mesh\'s root namespace is reachable', () => {
    const app = Testing.app();
    new Mesh(app, 'Mesh', { rootNamespace: 'mesh-root' });
    const m = allow({}, {}, chart(app));
    expect(m[0].spec.egress[0].hosts).toEqual(['./*', 'mesh-root/*']);
  });

  test('STATIC endpoints with virtual addresses, for a TCP database', () => {
    const m = allow({
      'db.partner.example': {
        ports: [ServicePort.tcp(5432, { name: 'tcp-postgres' })],
        resolution: ServiceEntryResolution.STATIC,
        endpoints: [{ address: '203.0.113.10' }, { address: '203.0.113.11', ports: { 'tcp-postgres': 6432 } }],
        addresses: ['203.0.113.0/28'],
      },
    });
    expect(m).toMatchSnapshot();
    expect(one(m, 'ServiceEntry').spec).toEqual({
      hosts: ['db.partner.example'],
      addresses: ['203.0.113.0/28'],
      ports: [{ number: 5432, name: 'tcp-postgres', protocol: 'TCP' }],
      location: 'MESH_EXTERNAL',
      resolution: 'STATIC',
      endpoints: [{ address: '203.0.113.10' }, { address: '203.0.113.11', ports: { 'tcp-postgres': 6432 } }],
      exportTo: ['.'],
    });
  });

  test('DNS endpoints and DNS_ROUND_ROBIN', () => {
    const m = allow({
      'api.partner.example': { endpoints: [{ address: 'eu.api.partner.example' }, { address: 'us.api.partner.example' }] },
      'cdn.example.com': { resolution: ServiceEntryResolution.DNS_ROUND_ROBIN },
    });
    expect(one(m, 'ServiceEntry', 'api-partner-example').spec.endpoints).toEqual([
      { address: 'eu.api.partner.example' }, { address: 'us.api.partner.example' },
    ]);
    expect(one(m, 'ServiceEntry', 'cdn-example-com').spec.resolution).toBe('DNS_ROUND_ROBIN');
  });

  test('wildcard host: NONE resolution, routed by the workload\'s own DNS', () => {
    const m = allow({ '*.wikipedia.org': {} });
    expect(m).toMatchSnapshot();
    const se = one(m, 'ServiceEntry');
    expect(se.metadata.name).toBe('wildcard-wikipedia-org');
    expect(se.spec).toEqual(expect.objectContaining({ hosts: ['*.wikipedia.org'], resolution: 'NONE' }));
    expect(one(m, 'Sidecar').spec.egress[0].hosts).toContain('./*.wikipedia.org');
  });

  test('exportTo scoping: wider than the default is kept', () => {
    const m = allow({ 'api.stripe.com': { exportTo: ['.', 'billing'] }, 'httpbin.org': { exportTo: ['*'] } });
    expect(one(m, 'ServiceEntry', 'api-stripe-com').spec.exportTo).toEqual(['.', 'billing']);
    expect(one(m, 'ServiceEntry', 'httpbin-org').spec.exportTo).toEqual(['*']);
  });

  test('names of very long hosts stay DNS labels and unique', () => {
    const long = `${'a'.repeat(60)}.${'b'.repeat(60)}.example.com`;
    const m = allow({ [long]: {}, [`x${long}`]: {} });
    const names = byKind(m, 'ServiceEntry').map(o => o.metadata.name);
    expect(names.every(n => n.length <= 63)).toBe(true);
    expect(new Set(names).size).toBe(2);
    // The egress Gateway too: istiod refuses a Gateway whose name is not a DNS label.
    const gateway = one(allow({ [`${'v'.repeat(60)}.example.com`]: { route: EgressRoute.viaGatewayTlsPassthrough() } }), 'Gateway');
    expect(gateway.metadata.name.length).toBeLessThanOrEqual(63);
  });

  test('two hosts on one TCP port without addresses: refused, since a sidecar tells them apart by port only', () => {
    expect(() => allow({ 'db1.example.com': { ports: [ServicePort.tcp(5432)] }, 'db2.example.com': { ports: [ServicePort.tcp(5432)] } }))
      .toThrow(/allowHost\('db2\.example\.com'\)\.ports got 5432: test\/Egress\/db1\.example\.com takes port 5432 too/);
    // With addresses each gets a listener of its own; TLS and HTTP are told apart by SNI and Host.
    expect(() => allow({
      'db1.example.com': { ports: [ServicePort.tcp(5432)], addresses: ['10.1.0.1'] },
      'db2.example.com': { ports: [ServicePort.tcp(5432)], addresses: ['10.1.0.2'] },
      'a.example.com': { ports: [ServicePort.https(443)] },
      'b.example.com': { ports: [ServicePort.https(443)] },
    })).not.toThrow();
  });

  test('exportTo wider than the namespace for a host through the egress gateway is refused: other namespaces lack its subset', () => {
    expect(() => allow({ 'api.stripe.com': { route: EgressRoute.viaGatewayTlsPassthrough(), exportTo: ['*'] } }))
      .toThrow(/allowHost\('api\.stripe\.com'\)\.exportTo got \["\*"\]: through the egress gateway the host serves namespace 'shop' only/);
  });

  test('exportTo as istiod validates it: \'*\' alone, and \'.\' is the own namespace', () => {
    expect(() => allow({ 'a.example.com': { exportTo: ['*', 'billing'] } })).toThrow(/exportTo got \["\*","billing"\]: istiod refuses '\*' beside other values/);
    expect(() => allow({ 'a.example.com': { exportTo: ['.', 'shop'] } })).toThrow(/exportTo got 'shop': each value may appear only once|exportTo got '\.': each value may appear only once/);
  });
});

describe('EgressControl: TLS origination by the sidecar', () => {
  test('the workload speaks HTTP on 80, the mesh opens TLS to 443', () => {
    const m = allow({ 'legacy.example.com': { route: EgressRoute.tlsOrigination() } });
    expect(m).toMatchSnapshot();
    expect(one(m, 'ServiceEntry').spec.ports).toEqual([{ number: 80, name: 'http', protocol: 'HTTP', targetPort: 443 }]);
    expect(one(m, 'DestinationRule').spec).toEqual({
      host: 'legacy.example.com',
      trafficPolicy: { tls: { mode: 'SIMPLE', sni: 'legacy.example.com', subjectAltNames: ['legacy.example.com'] } },
    });
  });

  test('another TLS port, SNI and certificate names', () => {
    const m = allow({
      'legacy.example.com': {
        ports: [ServicePort.http(8080)],
        route: EgressRoute.tlsOrigination({ targetPort: 8443, sni: 'api.example.com', subjectAltNames: ['*.example.com'] }),
      },
    });
    expect(one(m, 'ServiceEntry').spec.ports).toEqual([{ number: 8080, name: 'http', protocol: 'HTTP', targetPort: 8443 }]);
    expect(one(m, 'DestinationRule').spec.trafficPolicy.tls).toEqual({ mode: 'SIMPLE', sni: 'api.example.com', subjectAltNames: ['*.example.com'] });
  });

  test("the port's own targetPort names the host's TLS port", () => {
    const m = allow({ 'legacy.example.com': { ports: [ServicePort.http(80, { targetPort: 8443 })], route: EgressRoute.tlsOrigination() } });
    expect(one(m, 'ServiceEntry').spec.ports).toEqual([{ number: 80, name: 'http', protocol: 'HTTP', targetPort: 8443 }]);
  });

  test('a CA file verifies the server, and istioctl analyze has nothing to report (IST0128)', () => {
    const route = (caCertificates?: string) => ({ route: EgressRoute.viaGatewayTlsOrigination({ caCertificates }) });
    const unset = MeshAnalyzer.analyze(allow({ 'legacy.example.com': route() }), { gatewayWorkloads: [GatewayWorkload.defaultEgress()] });
    expect(unset.findings.map(f => f.code)).toContain('IST0128');
    const m = allow({ 'legacy.example.com': route('/etc/ssl/certs/ca-certificates.crt') });
    expect(one(m, 'DestinationRule', 'legacy.example.com').spec.trafficPolicy.tls).toEqual({
      mode: 'SIMPLE', sni: 'legacy.example.com', subjectAltNames: ['legacy.example.com'], caCertificates: '/etc/ssl/certs/ca-certificates.crt',
    });
    const report = MeshAnalyzer.analyze(m, { gatewayWorkloads: [GatewayWorkload.defaultEgress()] });
    expect(report.findings.map(f => f.code)).not.toContain('IST0128');
  });

  test('the TLS policy joins the host\'s one DestinationRule, with a ResilientUpstream\'s', () => {
    // GIVEN
    const c = chart();
    const egress = new EgressControl(c, 'Egress');
    // WHEN
    const legacy = egress.allowHost('legacy.example.com', { route: EgressRoute.tlsOrigination() });
    new ResilientUpstream(c, 'Legacy', { host: Host.external(c, 'legacy.example.com'), preset: ResiliencePreset.EXTERNAL_API });
    // THEN
    const m = synth(c);
    const dr = one(m, 'DestinationRule');
    expect(dr.spec.trafficPolicy.tls.mode).toBe('SIMPLE');
    expect(dr.spec.trafficPolicy.connectionPool).toBeDefined();
    expect(legacy.destinationRules.map(r => r.name)).toEqual([dr.metadata.name]);
  });
});

describe('EgressControl: through the egress gateway', () => {
  test('HTTP: Gateway, routes mesh -> gateway -> host, mutual TLS to the gateway, gateway policy', () => {
    const m = allow({ 'edition.cnn.com': { route: EgressRoute.viaGatewayHttp() } });
    expect(m).toMatchSnapshot();
    expect(one(m, 'Gateway').spec).toEqual({
      selector: { istio: 'egressgateway' },
      servers: [{
        port: { number: 443, name: 'https', protocol: 'HTTPS' },
        hosts: ['shop/edition.cnn.com'],
        tls: { mode: 'ISTIO_MUTUAL' },
      }],
    });
    expect(one(m, 'DestinationRule').spec).toEqual({
      host: GATEWAY_HOST,
      exportTo: ['.'],
      trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } },
      subsets: [{ name: 'edition-cnn-com', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL', sni: 'edition.cnn.com' } } }],
    });
    const vs = one(m, 'VirtualService');
    expect(vs.spec.gateways).toEqual(['shop/edition-cnn-com-egress', 'mesh']);
    expect(vs.spec.exportTo).toEqual(['.', 'istio-system']);
    expect(vs.spec.http).toEqual([
      {
        name: 'to-egress-gateway',
        match: [{ gateways: ['mesh'], port: 80 }],
        route: [{ destination: { host: GATEWAY_HOST, subset: 'edition-cnn-com', port: { number: 443 } }, weight: 100 }],
      },
      {
        name: 'to-external-host',
        match: [{ gateways: ['shop/edition-cnn-com-egress'], port: 443 }],
        route: [{ destination: { host: 'edition.cnn.com', port: { number: 80 } }, weight: 100 }],
      },
    ]);
    expect(one(m, 'ServiceEntry').spec.exportTo).toEqual(['.', 'istio-system']);
    const policy = one(m, 'AuthorizationPolicy');
    expect(policy.metadata).toEqual({ name: 'shop.edition-cnn-com', namespace: 'istio-system' });
    expect(policy.spec).toEqual({
      selector: { matchLabels: { istio: 'egressgateway' } },
      action: 'ALLOW',
      rules: [{
        from: [{ source: { namespaces: ['shop'] } }],
        to: [{ operation: { hosts: ['edition.cnn.com', 'edition.cnn.com:80'] } }],
      }],
    });
    expect(one(m, 'Sidecar').spec.egress[0].hosts).toEqual([
      './*', 'istio-system/*', `istio-system/${GATEWAY_HOST}`, './edition.cnn.com',
    ]);
  });

  test('the DestinationRule and the Gateway are applied before the routes that use them', () => {
    const kinds = allow({ 'edition.cnn.com': { route: EgressRoute.viaGatewayHttp() } }).map(o => o.kind);
    expect(kinds.indexOf('DestinationRule')).toBeLessThan(kinds.indexOf('VirtualService'));
    expect(kinds.indexOf('Gateway')).toBeLessThan(kinds.indexOf('VirtualService'));
    expect(kinds.indexOf('ServiceEntry')).toBeLessThan(kinds.indexOf('VirtualService'));
  });

  test('two namespaces routing one host through the gateway share its server, whose SNI Envoy accepts only once', () => {
    // GIVEN shop and payments both calling api.stripe.com through the egress gateway
    const app = Testing.app();
    const shop = chart(app);
    const payments = new Chart(app, 'payments', { namespace: 'payments' });
    new EgressControl(shop, 'Egress').allowHost('api.stripe.com', { route: EgressRoute.viaGatewayTlsPassthrough() });
    const second = new EgressControl(payments, 'Egress').allowHost('api.stripe.com', { route: EgressRoute.viaGatewayTlsPassthrough() });
    const m = [...synth(shop), ...synth(payments)];
    // THEN one Gateway serves the host for both, and each namespace's routes bind to it
    expect(byKind(m, 'Gateway')).toHaveLength(1);
    expect(one(m, 'Gateway').spec.servers).toEqual([{
      port: { number: 443, name: 'tls', protocol: 'TLS' }, hosts: ['shop/api.stripe.com', 'payments/api.stripe.com'], tls: { mode: 'ISTIO_MUTUAL' },
    }]);
    expect(byKind(m, 'VirtualService').map(vs => [vs.metadata.namespace, vs.spec.gateways])).toEqual([
      ['shop', ['shop/api-stripe-com-egress', 'mesh']], ['payments', ['shop/api-stripe-com-egress', 'mesh']],
    ]);
    expect(second.gateway!.name).toBe('api-stripe-com-egress');
    const report = MeshAnalyzer.analyze(m, { gatewayWorkloads: [GatewayWorkload.defaultEgress()] });
    expect(report.findings.filter(f => f.code === 'IST0145')).toEqual([]);
  });

  test('a host routed through the gateway another way by another namespace is refused, naming it', () => {
    const app = Testing.app();
    new EgressControl(chart(app), 'Egress').allowHost('api.stripe.com', { route: EgressRoute.viaGatewayTlsPassthrough() });
    const payments = new Chart(app, 'payments', { namespace: 'payments' });
    const egress = new EgressControl(payments, 'Egress');
    expect(() => egress.allowHost('api.stripe.com', { route: EgressRoute.viaGatewayHttp(), ports: [ServicePort.http(80)] }))
      .toThrow(/allowHost\('api\.stripe\.com'\)\.route got 'gateway-http': test\/Egress routes api\.stripe\.com through the same egress gateway defined otherwise/);
    expect(Testing.synth(payments).map(o => o.kind)).not.toContain('Gateway');
  });

  test('TLS origination in one namespace and plain HTTP in another: refused, since the gateway keeps one definition per host', () => {
    const app = Testing.app();
    new EgressControl(chart(app), 'Egress').allowHost('legacy.example.com', { route: EgressRoute.viaGatewayTlsOrigination(), ports: [ServicePort.http(80)] });
    const payments = new EgressControl(new Chart(app, 'payments', { namespace: 'payments' }), 'Egress');
    expect(() => payments.allowHost('legacy.example.com', { route: EgressRoute.viaGatewayHttp(), ports: [ServicePort.http(80)] }))
      .toThrow(/routes legacy\.example\.com through the same egress gateway defined otherwise/);
  });

  test('TLS passthrough: routed by SNI, only the declared identities admitted', () => {
    const m = allow({
      'api.stripe.com': {
        route: EgressRoute.viaGatewayTlsPassthrough(),
        fromIdentities: [ServiceIdentity.fromName('shop', 'checkout'), ServiceIdentity.fromName('shop', 'refunds')],
      },
    });
    expect(m).toMatchSnapshot();
    expect(one(m, 'ServiceEntry').spec.ports).toEqual([{ number: 443, name: 'tls', protocol: 'TLS' }]);
    expect(one(m, 'Gateway').spec.servers[0]).toEqual({
      port: { number: 443, name: 'tls', protocol: 'TLS' }, hosts: ['shop/api.stripe.com'], tls: { mode: 'ISTIO_MUTUAL' },
    });
    const vs = one(m, 'VirtualService');
    expect(vs.spec.tls).toEqual([{
      match: [{ gateways: ['mesh'], port: 443, sniHosts: ['api.stripe.com'] }],
      route: [{ destination: { host: GATEWAY_HOST, subset: 'api-stripe-com', port: { number: 443 } }, weight: 100 }],
    }]);
    expect(vs.spec.tcp).toEqual([{
      match: [{ gateways: ['shop/api-stripe-com-egress'], port: 443 }],
      route: [{ destination: { host: 'api.stripe.com', port: { number: 443 } }, weight: 100 }],
    }]);
    expect(vs.spec.http).toBeUndefined();
    expect(one(m, 'AuthorizationPolicy').spec.rules).toEqual([{
      from: [{ source: { principals: ['cluster.local/ns/shop/sa/checkout', 'cluster.local/ns/shop/sa/refunds'] } }],
      when: [{ key: 'connection.sni', values: ['api.stripe.com'] }],
    }]);
  });

  test('identities and the namespace together are OR-ed; principals follow the trust domain', () => {
    const app = Testing.app();
    new Mesh(app, 'Mesh', { trustDomain: 'prod.example.com' });
    const m = allow({
      'api.stripe.com': {
        route: EgressRoute.viaGatewayTlsPassthrough({}),
        fromIdentities: [ServiceIdentity.fromName('shop', 'checkout')],
        fromNamespaces: ['shop'],
      },
    }, {}, chart(app));
    expect(one(m, 'AuthorizationPolicy').spec.rules[0].from).toEqual([
      { source: { principals: ['prod.example.com/ns/shop/sa/checkout'] } },
      { source: { namespaces: ['shop'] } },
    ]);
  });

  test('TLS origination at the gateway: HTTP to the gateway, TLS from the gateway to the host', () => {
    // GIVEN
    const c = chart();
    const egress = new EgressControl(c, 'Egress');
    // WHEN
    const legacy = egress.allowHost('legacy.example.com', { route: EgressRoute.viaGatewayTlsOrigination() });
    // THEN
    const m = synth(c);
    expect(m).toMatchSnapshot();
    expect(one(m, 'ServiceEntry').spec.ports).toEqual([{ number: 80, name: 'http', protocol: 'HTTP', targetPort: 443 }]);
    expect(one(m, 'DestinationRule', 'legacy.example.com').spec.trafficPolicy.tls).toEqual({
      mode: 'SIMPLE', sni: 'legacy.example.com', subjectAltNames: ['legacy.example.com'],
    });
    expect(one(m, 'VirtualService').spec.http[1].route[0].destination).toEqual({ host: 'legacy.example.com', port: { number: 80 } });
    expect(legacy.destinationRules.map(r => r.name)).toEqual(['istio-egressgateway', 'legacy.example.com']);
    expect(legacy.gateway?.kind).toBe('Gateway');
    expect(legacy.virtualService?.kind).toBe('VirtualService');
    expect(legacy.authorizationPolicy?.kind).toBe('AuthorizationPolicy');
    expect(legacy.route.originatesTls).toBe(true);
  });

  test('wildcard: TLS passthrough to the server that serves every name under it', () => {
    const m = allow({ '*.wikipedia.org': { route: EgressRoute.viaGatewayTlsPassthrough({ servingHost: 'www.wikipedia.org' }) } });
    expect(m).toMatchSnapshot();
    const wildcard = one(m, 'ServiceEntry', 'wildcard-wikipedia-org');
    expect(wildcard.spec).toEqual(expect.objectContaining({ hosts: ['*.wikipedia.org'], resolution: 'NONE', exportTo: ['.', 'istio-system'] }));
    // The serving host is visible to the gateway only, so workloads cannot bypass the gateway through it.
    const serving = one(m, 'ServiceEntry', 'wildcard-wikipedia-org-serving');
    expect(serving.spec).toEqual(expect.objectContaining({ hosts: ['www.wikipedia.org'], resolution: 'DNS', exportTo: ['istio-system'] }));
    const vs = one(m, 'VirtualService');
    expect(vs.spec.tls[0].match[0].sniHosts).toEqual(['*.wikipedia.org']);
    expect(vs.spec.tcp[0].route[0].destination.host).toBe('www.wikipedia.org');
    expect(one(m, 'Gateway').spec.servers[0].hosts).toEqual(['shop/*.wikipedia.org']);
    expect(one(m, 'DestinationRule').spec.subsets[0].trafficPolicy.tls).toEqual({ mode: 'ISTIO_MUTUAL', sni: 'www.wikipedia.org' });
    expect(one(m, 'AuthorizationPolicy').spec.rules[0].when).toEqual([{ key: 'connection.sni', values: ['www.wikipedia.org'] }]);
    expect(one(m, 'Sidecar').spec.egress[0].hosts).not.toContain('./www.wikipedia.org');
  });

  test('wildcard whose serving host is outside it: the gateway server takes both names', () => {
    const m = allow({ '*.s3.amazonaws.com': { route: EgressRoute.viaGatewayTlsPassthrough({ servingHost: 's3.amazonaws.com' }) } });
    expect(one(m, 'Gateway').spec.servers[0].hosts).toEqual(['shop/*.s3.amazonaws.com', 'shop/s3.amazonaws.com']);
  });

  test('several hosts share the gateway DestinationRule, one subset each', () => {
    const m = allow({
      'edition.cnn.com': { route: EgressRoute.viaGatewayHttp() },
      'api.stripe.com': { route: EgressRoute.viaGatewayTlsPassthrough() },
      'httpbin.org': {},
    });
    expect(one(m, 'DestinationRule').spec.subsets.map((s: any) => s.name)).toEqual(['edition-cnn-com', 'api-stripe-com']);
    expect(byKind(m, 'Gateway')).toHaveLength(2);
    expect(byKind(m, 'AuthorizationPolicy')).toHaveLength(2);
    expect(byKind(m, 'ServiceEntry')).toHaveLength(3);
  });

  test('a custom egress gateway in its own namespace', () => {
    const gateway = GatewayWorkload.custom({
      labels: { app: 'egress', tier: 'edge' }, namespace: 'egress', serviceAccountName: 'egress', serviceName: 'egress-gw',
    });
    const m = allow({ 'edition.cnn.com': { route: EgressRoute.viaGatewayHttp() } }, { egressGateway: gateway });
    expect(one(m, 'Gateway').spec.selector).toEqual({ app: 'egress', tier: 'edge' });
    expect(one(m, 'DestinationRule').spec.host).toBe('egress-gw.egress.svc.cluster.local');
    expect(one(m, 'AuthorizationPolicy').metadata.namespace).toBe('egress');
    expect(one(m, 'AuthorizationPolicy').spec.selector).toEqual({ matchLabels: { app: 'egress', tier: 'edge' } });
    expect(one(m, 'ServiceEntry').spec.exportTo).toEqual(['.', 'egress']);
  });

  test('the Mesh\'s egress gateway is the default', () => {
    const app = Testing.app();
    new Mesh(app, 'Mesh', {
      egressGateway: GatewayWorkload.custom({ labels: { istio: 'egress-prod' }, serviceAccountName: 'egress', serviceName: 'egress-prod' }),
    });
    const m = allow({ 'edition.cnn.com': { route: EgressRoute.viaGatewayHttp() } }, {}, chart(app));
    expect(one(m, 'Gateway').spec.selector).toEqual({ istio: 'egress-prod' });
  });

  test('a gateway of your own in a ZeroTrustNamespace gets a NetworkPolicy of its own (default-deny would isolate it)', () => {
    // GIVEN two namespaces sending through one egress gateway that runs in a zero-trust namespace
    const app = Testing.app();
    const gateway = GatewayWorkload.custom({ labels: { app: 'egress-gw' }, namespace: 'egress', serviceAccountName: 'egress-gw', serviceName: 'egress-gw' });
    const edge = new Chart(app, 'edge', { namespace: 'egress' });
    new ZeroTrustNamespace(edge, 'ZeroTrust');
    const shop = chart(app);
    new EgressControl(shop, 'Egress', { egressGateway: gateway }).allowHost('api.stripe.com', { route: EgressRoute.viaGatewayTlsPassthrough() });
    const billing = new Chart(app, 'billing', { namespace: 'billing' });
    const billingEgress = new EgressControl(billing, 'Egress', { egressGateway: gateway });
    billingEgress.allowHost('legacy.example.com', { route: EgressRoute.viaGatewayTlsOrigination() });
    billingEgress.allowHost('status.example.com');
    // WHEN synthesized
    const m = app.charts.flatMap(c => Testing.synth(c));
    expectValidManifests(m);
    // THEN the gateway's pods admit the two namespaces (any port: the Service's target ports are unknown) and reach
    // istiod and the hosts it forwards to (origination to 443), but not the host billing reaches directly
    const policy = one(m, 'NetworkPolicy', 'egress-gw-allow');
    expect(policy.metadata.namespace).toBe('egress');
    expect(policy.spec.podSelector).toEqual({ matchLabels: { app: 'egress-gw' } });
    expect(policy.spec.ingress).toEqual([{ from: ['shop', 'billing'].map(n => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': n } } })) }]);
    expect(policy.spec.egress).toEqual([
      { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'istio-system' } }, podSelector: { matchLabels: { app: 'istiod' } } }], ports: [{ port: 15012, protocol: 'TCP' }] },
      { ports: [{ port: 443, protocol: 'TCP' }] },
    ]);
  });
});

describe('EgressControl: one VirtualService per host', () => {
  test('routes from HostRouting on a host routed through the gateway fail synth, in either order', () => {
    for (const gatewayFirst of [true, false]) {
      // GIVEN
      const c = chart();
      const egress = new EgressControl(c, 'Egress');
      const resilience = () => new ResilientUpstream(c, 'Cnn', { host: Host.external(c, 'edition.cnn.com') });
      // WHEN
      if (!gatewayFirst) resilience();
      egress.allowHost('edition.cnn.com', { route: EgressRoute.viaGatewayHttp() });
      if (gatewayFirst) resilience();
      // THEN
      expect(() => Testing.synth(c)).toThrow(/test\/Egress\/edition\.cnn\.com: route got 'gateway-http': edition\.cnn\.com also has routes from HostRouting .*only one VirtualService/);
    }
  });

  test('direct hosts keep HostRouting\'s VirtualService', () => {
    // GIVEN
    const c = chart();
    new EgressControl(c, 'Egress').allowHost('edition.cnn.com', { ports: [ServicePort.http(80)] });
    // WHEN
    new ResilientUpstream(c, 'Cnn', { host: Host.external(c, 'edition.cnn.com'), preset: ResiliencePreset.EXTERNAL_API });
    // THEN
    const m = synth(c);
    expect(one(m, 'VirtualService').spec.hosts).toEqual(['edition.cnn.com']);
  });
});

describe('EgressControl: ambient', () => {
  test('callers of other namespaces get egress to the waypoint, which ztunnel reaches from their pods', () => {
    const app = Testing.app();
    new Mesh(app, 'Mesh', { dataplaneMode: DataplaneMode.AMBIENT });
    const shop = chart(app);
    const billing = new Chart(app, 'billing', { namespace: 'billing' });
    new ZeroTrustNamespace(shop, 'ZeroTrust', { withoutWaypoint: true });
    new ZeroTrustNamespace(billing, 'ZeroTrust', { withoutWaypoint: true });
    new EgressControl(shop, 'Egress').allowHost('api.stripe.com', { fromNamespaces: ['shop', 'billing'] });
    const m = [...synth(shop), ...synth(billing)];
    const allowMesh = m.find(o => o.kind === 'NetworkPolicy' && o.metadata.namespace === 'billing' && o.metadata.name === 'allow-mesh');
    expect(allowMesh.spec.egress).toContainEqual({
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } }, podSelector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'egress-waypoint' } } }],
      ports: [{ protocol: 'TCP', port: 15008 }],
    });
  });

  test('a wildcard host, and a host another namespace allows already, are refused: ztunnel would not apply them as meant', () => {
    const app = Testing.app();
    new Mesh(app, 'Mesh', { dataplaneMode: DataplaneMode.AMBIENT });
    const shop = chart(app);
    const shopEgress = new EgressControl(shop, 'Egress');
    expect(() => shopEgress.allowHost('*.example.com')).toThrow(/host got '\*\.example\.com': in ambient mode ztunnel cannot send a wildcard host/);
    shopEgress.allowHost('api.stripe.com');
    const billingEgress = new EgressControl(new Chart(app, 'billing', { namespace: 'billing' }), 'Egress');
    expect(() => billingEgress.allowHost('api.stripe.com'))
      .toThrow(/host got 'api\.stripe\.com': test\/Egress allows it already, and in ambient mode its ServiceEntry sends every namespace's calls to its waypoint/);
  });

  test('no Sidecar: the ServiceEntries use a waypoint, which enforces the callers', () => {
    // GIVEN
    const c = ambientChart();
    const egress = new EgressControl(c, 'Egress');
    // WHEN
    const stripe = egress.allowHost('api.stripe.com', { fromIdentities: [ServiceIdentity.fromName('shop', 'checkout')] });
    egress.allowHost('legacy.example.com', { route: EgressRoute.tlsOrigination() });
    // THEN
    const m = synth(c);
    expect(m).toMatchSnapshot();
    expect(byKind(m, 'Sidecar')).toEqual([]);
    expect(egress.sidecar).toBeUndefined();
    expect(egress.waypointName).toBe('egress-waypoint');
    const waypoint = one(m, 'Gateway');
    expect(waypoint.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(waypoint.metadata).toEqual({ name: 'egress-waypoint', namespace: 'shop', labels: { 'istio.io/waypoint-for': 'service' } });
    expect(waypoint.spec).toEqual({ gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] });
    expect(one(m, 'ServiceEntry', 'api-stripe-com').metadata.labels).toEqual({ 'istio.io/use-waypoint': 'egress-waypoint' });
    expect(one(m, 'AuthorizationPolicy', 'api-stripe-com').spec).toEqual({
      targetRefs: [{ group: 'networking.istio.io', kind: 'ServiceEntry', name: 'api-stripe-com' }],
      action: 'ALLOW',
      rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/checkout'] } }] }],
    });
    expect(one(m, 'AuthorizationPolicy', 'legacy-example-com').spec.rules).toEqual([{ from: [{ source: { namespaces: ['shop'] } }] }]);
    expect(one(m, 'DestinationRule').spec.trafficPolicy.tls.mode).toBe('SIMPLE');
    expect(stripe.authorizationPolicy?.kind).toBe('AuthorizationPolicy');
    expect(m.map(o => o.kind).indexOf('Gateway')).toBeLessThan(m.map(o => o.kind).indexOf('ServiceEntry'));
  });

  test('an existing waypoint; callers in other namespaces see the ServiceEntry', () => {
    const m = allow({ 'api.stripe.com': { fromNamespaces: ['shop', 'billing'] } }, { waypoint: 'waypoint' }, ambientChart());
    expect(byKind(m, 'Gateway')).toEqual([]);
    expect(one(m, 'ServiceEntry').metadata.labels).toEqual({ 'istio.io/use-waypoint': 'waypoint' });
    expect(one(m, 'ServiceEntry').spec.exportTo).toEqual(['.', 'billing']);
    expect(one(m, 'AuthorizationPolicy').spec.rules[0].from).toEqual([{ source: { namespaces: ['shop', 'billing'] } }]);
  });

  test('the EgressControl can choose ambient when the Mesh default is sidecar', () => {
    const m = allow({ 'api.stripe.com': {} }, { dataplaneMode: DataplaneMode.AMBIENT });
    expect(m.map(o => o.kind)).toEqual(['Gateway', 'ServiceEntry', 'AuthorizationPolicy']);
  });
});

describe('EgressRoute', () => {
  test('value classes', () => {
    const routes = {
      direct: EgressRoute.direct(),
      tlsOrigination: EgressRoute.tlsOrigination({ targetPort: 8443 }),
      viaGatewayHttp: EgressRoute.viaGatewayHttp(),
      viaGatewayTlsPassthrough: EgressRoute.viaGatewayTlsPassthrough({ servingHost: 'www.example.com' }),
      viaGatewayTlsOrigination: EgressRoute.viaGatewayTlsOrigination(),
    };
    expect(Object.fromEntries(Object.entries(routes).map(([k, r]) => [k, { gateway: r.viaEgressGateway, tls: r.originatesTls }]))).toMatchSnapshot();
  });
});

describe('EgressControl: bad input fails synth and emits nothing for the host', () => {
  /** Expects allowHost to throw `error`, and the chart to hold only what existed before. */
  function expectRefused(host: string, options: AllowHostOptions, error: RegExp, props: EgressControlProps = {}, c: Chart = chart()): void {
    const egress = new EgressControl(c, 'Egress', props);
    const before = Testing.synth(c);
    expect(() => egress.allowHost(host, options)).toThrow(error);
    expect(Testing.synth(c)).toEqual(before);
    expect(egress.allowedServices).toEqual([]);
  }

  test.each([
    ['api_stripe.com'], ['API.stripe.com'], ['stripe'], ['*.*.example.com'], ['api.*.example.com'], ['*'], ['https://api.stripe.com'],
  ])('host %s is neither an FQDN nor a wildcard', host => {
    expectRefused(host, {}, /test\/Egress: host got '.*': (use a fully qualified|a wildcard host is)/);
  });

  test('a port without a protocol', () => {
    expectRefused('api.stripe.com', { ports: [ServicePort.of(443, undefined as unknown as PortProtocol)] },
      /allowHost\('api\.stripe\.com'\)\.ports\[0\]\.protocol is missing: give every port its protocol/);
  });

  test('no ports, duplicate ports, a port name that does not select its protocol', () => {
    expectRefused('api.stripe.com', { ports: [] }, /ports got \[\]: give at least one port/);
    expectRefused('api.stripe.com', { ports: [ServicePort.https(443), ServicePort.https(443, { name: 'https-2' })] }, /ports\.port got '443': each value may appear only once/);
    expectRefused('api.stripe.com', { ports: [ServicePort.https(443, { name: 'web' })] }, /ports\[0\]\.name got 'web': name the port 'https'/);
  });

  test('a CA file that is not an absolute path', () => {
    expectRefused('legacy.example.com', { route: EgressRoute.tlsOrigination({ caCertificates: 'ca.pem' }) },
      /allowHost\('legacy\.example\.com'\)\.route\.caCertificates got 'ca\.pem': give the absolute path of the CA file in the proxy/);
  });

  test('TLS origination on a TCP-only port', () => {
    expectRefused('db.example.com', { ports: [ServicePort.tcp(5432)], route: EgressRoute.tlsOrigination() },
      /ports got '5432\/TCP': TLS origination needs a port the workload speaks plain HTTP on/);
    expectRefused('db.example.com', { ports: [ServicePort.tcp(5432)], route: EgressRoute.viaGatewayTlsOrigination() },
      /TLS origination needs a port the workload speaks plain HTTP on/);
    expectRefused('api.example.com', { ports: [ServicePort.https(443)], route: EgressRoute.tlsOrigination() },
      /ports got '443\/HTTPS': TLS origination needs a port/);
  });

  test("TLS origination to another port than the port's targetPort", () => {
    expectRefused('legacy.example.com', { ports: [ServicePort.http(80, { targetPort: 8443 })], route: EgressRoute.tlsOrigination({ targetPort: 443 }) },
      /allowHost\('legacy\.example\.com'\)\.ports got '80->8443': TLS origination connects to port 443 of the host: give the port no targetPort/);
  });

  test('an opaque TCP port with NONE resolution and no addresses would admit every destination on that port', () => {
    expectRefused('*.db.partner.example', { ports: [ServicePort.tcp(5432)] },
      /resolution got 'NONE': port 5432 \(tcp\) would be forwarded to any IP address the caller dials, so every destination on it would be allowed: give the host's addresses/);
    expectRefused('cache.partner.example', { ports: [ServicePort.tcp(6379)], resolution: ServiceEntryResolution.NONE }, /port 6379 \(tcp\) would be forwarded to any IP/);
    const m = allow({ '*.db.partner.example': { ports: [ServicePort.tcp(5432)], addresses: ['10.20.0.0/16'] } });
    expect(one(m, 'ServiceEntry').spec).toMatchObject({ addresses: ['10.20.0.0/16'], resolution: 'NONE' });
  });

  test('TLS origination of a wildcard, without resolution, to a bad port or SNI', () => {
    expectRefused('*.example.com', { route: EgressRoute.tlsOrigination() }, /route got 'tls-origination': TLS origination needs one host/);
    expectRefused('api.example.com', { route: EgressRoute.tlsOrigination(), resolution: ServiceEntryResolution.NONE }, /resolution got 'NONE': TLS origination connects/);
    expectRefused('api.example.com', { route: EgressRoute.tlsOrigination({ targetPort: 70000 }) }, /route\.targetPort got 70000: use a port from 1 to 65535/);
    expectRefused('api.example.com', { route: EgressRoute.tlsOrigination({ sni: 'not a name' }) }, /route\.sni got 'not a name'/);
  });

  test('a wildcard host through the egress gateway without SNI passthrough', () => {
    expectRefused('*.wikipedia.org', { route: EgressRoute.viaGatewayHttp() },
      /allowHost\('\*\.wikipedia\.org'\)\.route got 'gateway-http': a wildcard host through the egress gateway needs SNI passthrough/);
    expectRefused('*.wikipedia.org', { route: EgressRoute.viaGatewayTlsOrigination() }, /needs SNI passthrough|TLS origination needs one host/);
  });

  test('a wildcard through the gateway without a serving host; a serving host for an FQDN', () => {
    expectRefused('*.wikipedia.org', { route: EgressRoute.viaGatewayTlsPassthrough() }, /route\.servingHost is missing: the egress gateway cannot connect to a wildcard/);
    expectRefused('api.stripe.com', { route: EgressRoute.viaGatewayTlsPassthrough({ servingHost: 'www.stripe.com' }) }, /servingHost is only for wildcard hosts/);
    expectRefused('*.wikipedia.org', { route: EgressRoute.viaGatewayTlsPassthrough({ servingHost: '*.wikipedia.org' }) }, /host got '\*\.wikipedia\.org'/);
  });

  test('TLS passthrough on an HTTP port; HTTP through the gateway on a TLS port; several ports through the gateway', () => {
    expectRefused('api.stripe.com', { ports: [ServicePort.http(80)], route: EgressRoute.viaGatewayTlsPassthrough() }, /TLS passthrough routes by SNI/);
    expectRefused('api.stripe.com', { ports: [ServicePort.tls(443)], route: EgressRoute.viaGatewayHttp() }, /HTTP through the egress gateway needs an HTTP port/);
    expectRefused('api.stripe.com', { ports: [ServicePort.http(80), ServicePort.http(8080, { name: 'http-alt' })], route: EgressRoute.viaGatewayHttp() },
      /ports got \[80,8080\]: route exactly one port through the egress gateway/);
  });

  test('duplicate hosts', () => {
    // GIVEN
    const c = chart();
    const egress = new EgressControl(c, 'Egress');
    egress.allowHost('api.stripe.com');
    const before = Testing.synth(c);
    // WHEN / THEN
    expect(() => egress.allowHost('api.stripe.com', { ports: [ServicePort.http(80)] }))
      .toThrow(/test\/Egress: host got 'api\.stripe\.com': test\/Egress\/api\.stripe\.com already allows it: allow each host once, with all its ports/);
    expect(Testing.synth(c)).toEqual(before);
  });

  test('resolution that does not fit the host or endpoints', () => {
    expectRefused('*.example.com', { resolution: ServiceEntryResolution.DNS }, /resolution got 'DNS': a wildcard host cannot be resolved in DNS/);
    expectRefused('db.example.com', { resolution: ServiceEntryResolution.STATIC }, /endpoints got \[\]: STATIC resolution needs/);
    expectRefused('db.example.com', { resolution: ServiceEntryResolution.STATIC, endpoints: [{ address: 'db1.example.com' }] }, /endpoints\[0\]\.address got 'db1\.example\.com': STATIC endpoints are IP addresses/);
    expectRefused('db.example.com', { resolution: ServiceEntryResolution.NONE, endpoints: [{ address: '10.0.0.1' }] }, /endpoints need STATIC or DNS resolution/);
    expectRefused('db.example.com', { resolution: ServiceEntryResolution.DNS_ROUND_ROBIN, endpoints: [{ address: 'a.example.com' }, { address: 'b.example.com' }] }, /DNS_ROUND_ROBIN takes at most one endpoint/);
    expectRefused('db.example.com', { endpoints: [{ address: 'a.example.com', ports: { grpc: 9000 } }] }, /endpoints\[0\]\.ports got 'grpc': name one of the allowed ports \(https\)/);
    expectRefused('db.example.com', { addresses: ['10.0.0.0/24'] }, /addresses\[0\] got '10\.0\.0\.0\/24': CIDR blocks need NONE or STATIC resolution/);
    expectRefused('db.example.com', { addresses: ['10.0.0.300'] }, /addresses\[0\] got '10\.0\.0\.300': use an IP address or a CIDR block/);
    expectRefused('edition.cnn.com', { route: EgressRoute.viaGatewayHttp(), resolution: ServiceEntryResolution.NONE }, /resolution got 'NONE': through the egress gateway the host needs DNS or STATIC resolution/);
  });

  test('callers that a sidecar cannot enforce, or outside the namespace through the gateway', () => {
    expectRefused('api.stripe.com', { fromIdentities: [ServiceIdentity.fromName('shop', 'checkout')] }, /fromIdentities got \["shop\/checkout"\]: a sidecar cannot tell callers apart/);
    expectRefused('api.stripe.com', { fromNamespaces: ['shop'] }, /fromNamespaces got \["shop"\]: a sidecar cannot tell callers apart/);
    expectRefused('api.stripe.com', { route: EgressRoute.viaGatewayTlsPassthrough(), fromNamespaces: ['billing'] },
      /fromNamespaces got \["billing"\]: through the egress gateway only callers in namespace 'shop' can be admitted/);
    expectRefused('api.stripe.com', { route: EgressRoute.viaGatewayTlsPassthrough(), fromIdentities: [ServiceIdentity.fromName('billing', 'x')] },
      /fromIdentities got \["billing"\]: through the egress gateway only callers in namespace 'shop'/);
    expectRefused('api.stripe.com', { route: EgressRoute.viaGatewayTlsPassthrough(), fromNamespaces: [] }, /fromNamespaces got \[\]: admit at least one namespace or identity/);
    expectRefused('api.stripe.com', { route: EgressRoute.viaGatewayTlsPassthrough(), fromNamespaces: ['Shop'] }, /fromNamespaces\[0\] got 'Shop': use a namespace name/);
  });

  test('exportTo that hides the host from who needs it', () => {
    expectRefused('edition.cnn.com', { route: EgressRoute.viaGatewayHttp(), exportTo: ['.'] }, /exportTo got \["."\]: also export to 'istio-system'/);
    expectRefused('api.stripe.com', { exportTo: ['billing'] }, /exportTo got \["billing"\]: also export to '\.'/);
    expectRefused('api.stripe.com', { exportTo: ['Bad!'] }, /exportTo\[0\] got 'Bad!'/);
  });

  test('a gateway route in ambient mode; a gateway without a Service name', () => {
    expectRefused('api.stripe.com', { route: EgressRoute.viaGatewayTlsPassthrough() }, /route got 'gateway-tls-passthrough': in ambient mode the waypoint is the egress gateway/, {}, ambientChart());
    const nameless = GatewayWorkload.custom({ labels: { istio: 'egress' }, serviceAccountName: 'egress' });
    expectRefused('api.stripe.com', { route: EgressRoute.viaGatewayTlsPassthrough() }, /route got 'egressGateway': the egress gateway has no Service name: set serviceName/, { egressGateway: nameless });
  });

  test('TLS origination when the host\'s DestinationRule would land in another namespace', () => {
    expectRefused('legacy.example.com', { route: EgressRoute.tlsOrigination() }, /route got 'tls-origination': the TLS policy goes to the host's DestinationRule in namespace 'shop' \(its chart's\), not 'payments'/, { namespace: 'payments' });
  });

  test('TLS origination of a host whose TLS another construct sets', () => {
    // GIVEN
    const c = chart();
    new ResilientUpstream(c, 'Legacy', { host: Host.external(c, 'legacy.example.com'), tls: UpstreamTls.simple() });
    const egress = new EgressControl(c, 'Egress');
    const before = Testing.synth(c);
    // WHEN / THEN
    expect(() => egress.allowHost('legacy.example.com', { route: EgressRoute.tlsOrigination() }))
      .toThrow(/test\/Egress\/legacy\.example\.com: trafficPolicy\.tls got 'legacy\.example\.com': test\/Legacy already sets it/);
    expect(Testing.synth(c)).toEqual(before);
  });
});

describe('EgressControl: bad props', () => {
  test.each<[string, EgressControlProps, RegExp, boolean]>([
    ['namespace', { namespace: 'Shop' }, /test\/Egress: namespace got 'Shop': use a DNS label/, false],
    ['mesh namespaces', { meshNamespaces: ['ok', 'not ok'] }, /meshNamespaces\[1\] got 'not ok'/, false],
    ['outbound policy', { outboundTrafficPolicy: 'DENY' as OutboundTrafficPolicy }, /outboundTrafficPolicy got 'DENY'/, false],
    ['waypoint in sidecar mode', { waypoint: 'waypoint' }, /waypoint got 'waypoint': a waypoint applies to ambient mode only/, false],
    ['outbound policy in ambient', { outboundTrafficPolicy: OutboundTrafficPolicy.REGISTRY_ONLY }, /outboundTrafficPolicy got 'REGISTRY_ONLY': ambient mode has no sidecars/, true],
    ['mesh namespaces in ambient', { meshNamespaces: ['billing'] }, /meshNamespaces got \["billing"\]: ambient mode has no sidecars/, true],
    ['waypoint name', { waypoint: 'Way_point' }, /waypoint got 'Way_point': use a DNS label/, true],
  ])('%s', (_name, props, error, ambient) => {
    const c = ambient ? ambientChart() : chart();
    expect(() => new EgressControl(c, 'Egress', props)).toThrow(error);
    expect(Testing.synth(c)).toEqual([]);
  });

  test('one EgressControl per namespace', () => {
    // GIVEN
    const app = Testing.app();
    const a = new Chart(app, 'a', { namespace: 'shop' });
    const b = new Chart(app, 'b', { namespace: 'shop' });
    new EgressControl(a, 'Egress');
    // WHEN / THEN
    expect(() => new EgressControl(b, 'Egress')).toThrow(/b\/Egress: namespace got 'shop': a\/Egress already controls its egress: define one EgressControl per namespace/);
    expect(Testing.synth(b)).toEqual([]);
    new EgressControl(b, 'Payments', { namespace: 'payments' });
  });
});
