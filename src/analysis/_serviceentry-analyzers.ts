// ServiceEntry analyzers: addresses TCP services need.
import { Analyzer, AnalyzerContext } from './_analyzer';
import { KIND, list } from './_resource';

/** IST0134: TCP ServiceEntries without addresses when Istio does not allocate them. */
export const protocolAddressesAnalyzer: Analyzer = {
  name: 'serviceentry.ProtocolAddressesAnalyzer',
  description: 'Checks that ServiceEntries serving TCP have addresses',
  analyze(ctx: AnalyzerContext) {
    const metadata = ctx.mesh.proxyMetadata;
    const autoAllocated = metadata.ISTIO_META_DNS_CAPTURE === 'true'
      && (metadata.ISTIO_META_DNS_AUTO_ALLOCATE === 'true' || metadata.PILOT_ENABLE_IP_AUTOALLOCATE === 'true');
    if (autoAllocated) return;
    for (const se of ctx.index.of(KIND.ServiceEntry)) {
      if (list(se.spec.addresses).length > 0 || list(se.obj.status?.addresses).length > 0) continue;
      const tcp = list(se.spec.ports).filter((p: any) => p.protocol === undefined || p.protocol === '' || String(p.protocol).toUpperCase() === 'TCP');
      if (tcp.length === 0) continue;
      ctx.report('ServiceEntryAddressesRequired', se,
        `ServiceEntry addresses are required for this protocol (port${tcp.length > 1 ? 's' : ''} ${tcp.map((p: any) => p.number).join(', ')} `
        + 'serve TCP): set spec.addresses, declare an HTTP or TLS protocol, or let Istio allocate addresses (ISTIO_META_DNS_CAPTURE and '
        + 'PILOT_ENABLE_IP_AUTOALLOCATE or ISTIO_META_DNS_AUTO_ALLOCATE)');
    }
  },
};
