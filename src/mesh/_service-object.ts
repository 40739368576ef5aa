import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import { ServicePort } from './service-port';
import { objectProps } from '../_object-props';

/** A Service port in the wire form: a numeric target port. */
type WirePort = Omit<kplus.k8s.ServicePort, 'targetPort'> & { readonly targetPort: number };

/** A Service's props in the wire form, checked by the binding's types. */
type WireService = Omit<kplus.k8s.KubeServiceProps, 'spec'> & { readonly spec: Omit<kplus.k8s.ServiceSpec, 'ports'> & { readonly ports: WirePort[] } };

/**
 * @internal A Service over `selector` with protocol-named ports and `appProtocol`, so protocol selection does not
 * rest on names alone. Built in the wire form, with the k8s binding's GVK: the KubeService class would convert its
 * typed props into that form again at every synthesis (see the benchmark). The test harness checks these objects
 * against the Kubernetes schemas.
 */
export function serviceObject(scope: Construct, id: string, name: string, namespace: string | undefined,
  selector: { [key: string]: string }, ports: ServicePort[]): ApiObject {
  const service: WireService = {
    metadata: { name, namespace, labels: { ...selector } },
    spec: {
      selector,
      ports: ports.map(p => ({ name: p.name, port: p.port, targetPort: p.targetPort, appProtocol: p.protocol })),
    },
  };
  return new ApiObject(scope, id, objectProps(kplus.k8s.KubeService.GVK, service));
}
