// A small ALLOW AuthorizationPolicy building block for the egress pattern. The zero-trust area is building the
// general one; until the two are unified, this renders only what egress needs.
import { compact } from '../_render';

/** @internal Who a rule admits: the union of the principals and the namespaces. */
export interface AuthorizationSources {
  readonly principals: string[];
  readonly namespaces: string[];
}

/** @internal What a rule admits the sources to. */
export interface AuthorizationTarget {
  /** HTTP Host header values (L7 only). */
  readonly hosts?: string[];
  /** TLS server names of the connection (`connection.sni`). */
  readonly serverNames?: string[];
}

/** @internal Where the policy applies: a workload's labels or a ServiceEntry (ambient, enforced by its waypoint). */
export interface AuthorizationAttachment {
  readonly selector?: { [key: string]: string };
  readonly serviceEntryName?: string;
}

/**
 * @internal The spec of an ALLOW AuthorizationPolicy with one rule. Each source kind is its own `from` entry, so
 * they are OR-ed; a source's principals and namespaces in one entry would be AND-ed.
 * @see https://istio.io/latest/docs/reference/config/security/authorization-policy/
 */
export function allowPolicySpec(attachment: AuthorizationAttachment, sources: AuthorizationSources, target: AuthorizationTarget = {}): any {
  const from = [
    ...(sources.principals.length ? [{ source: { principals: [...sources.principals] } }] : []),
    ...(sources.namespaces.length ? [{ source: { namespaces: [...sources.namespaces] } }] : []),
  ];
  const rule = compact({
    from,
    to: target.hosts?.length ? [{ operation: { hosts: [...target.hosts] } }] : undefined,
    when: target.serverNames?.length ? [{ key: 'connection.sni', values: [...target.serverNames] }] : undefined,
  });
  return {
    ...(attachment.selector ? { selector: { matchLabels: { ...attachment.selector } } } : {}),
    ...(attachment.serviceEntryName
      ? { targetRefs: [{ group: 'networking.istio.io', kind: 'ServiceEntry', name: attachment.serviceEntryName }] }
      : {}),
    action: 'ALLOW',
    rules: [rule],
  };
}
