import * as kplus from 'cdk8s-plus-33';
import { IConstruct } from 'constructs';
import { configError } from '../_errors';
import { isDnsLabel } from '../_validate';
import { Mesh } from './mesh';
import { namespaceOf } from './service-identity';

const FQDN = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * A host name as Istio matches it: a Kubernetes service (by FQDN), an external FQDN, or a wildcard.
 *
 * Always the fully qualified name: a short name is resolved in the namespace of the object that uses it, which
 * silently changes meaning when the object moves.
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/#VirtualService-hosts
 */
export class Host {
  /** A Kubernetes service: `name.namespace.svc.<cluster domain>`. */
  public static service(scope: IConstruct, name: string, namespace: string): Host {
    if (!isDnsLabel(name)) throw configError(scope, 'host', name, 'a service name must be a DNS label');
    if (!isDnsLabel(namespace)) throw configError(scope, 'namespace', namespace, 'a namespace must be a DNS label');
    return new Host(`${name}.${namespace}.svc.${Mesh.of(scope).clusterDomain}`, false, name, namespace);
  }

  /** The host of a cdk8s-plus Service. */
  public static fromService(service: kplus.Service): Host {
    return Host.service(service, service.name, namespaceOf(service));
  }

  /** A host outside the cluster, such as `api.stripe.com`. */
  public static external(scope: IConstruct, fqdn: string): Host {
    if (!FQDN.test(fqdn)) {
      throw configError(scope, 'host', fqdn, 'use a fully qualified lowercase domain name such as api.example.com');
    }
    return new Host(fqdn, true);
  }

  /** A wildcard host such as `*.example.com`: one leading `*.` label followed by a domain. */
  public static wildcard(scope: IConstruct, pattern: string): Host {
    if (!pattern.startsWith('*.') || !FQDN.test(pattern.slice(2))) {
      throw configError(scope, 'host', pattern, 'a wildcard host is \'*.\' followed by a domain, such as *.example.com');
    }
    return new Host(pattern, true);
  }

  /**
   * An external FQDN or wildcard from a string, for lists of hosts in props.
   */
  public static parseExternal(scope: IConstruct, value: string): Host {
    return value.startsWith('*') ? Host.wildcard(scope, value) : Host.external(scope, value);
  }

  private constructor(
    /** The host as Istio matches it. */
    public readonly name: string,
    /** Whether the host is outside the cluster. */
    public readonly isExternal: boolean,
    /** For a Kubernetes service, its name. */
    public readonly serviceName?: string,
    /** For a Kubernetes service, its namespace. */
    public readonly namespace?: string,
  ) {}

  /** Whether the host is a wildcard (`*.example.com`). */
  public get isWildcard(): boolean {
    return this.name.startsWith('*');
  }
}
