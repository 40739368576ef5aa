import { ApiObject, Chart, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { configError } from '../_errors';
import { objectProps } from '../_object-props';
import { requireDnsLabel } from '../_validate';
import { AuthorizationRule, renderRule, ruleNeedsL7 } from './authorization-rule';
import * as security from '../imports/istio-security';
import { namespaceDataplane } from '../mesh/_namespace-dataplane';
import { DataplaneMode, Mesh, requireIstio } from '../mesh/mesh';
import { WorkloadSelector } from '../mesh/workload-selector';

/**
 * What an AuthorizationPolicy does with the requests its rules match. Istio evaluates CUSTOM, then DENY, then ALLOW.
 * @see https://istio.io/latest/docs/reference/config/security/authorization-policy/#AuthorizationPolicy-Action
 */
export enum AuthorizationAction {
  /** Allow matching requests; once any ALLOW policy applies to a workload, requests no ALLOW rule matches are denied. */
  ALLOW = 'ALLOW',
  /** Deny matching requests, whatever the ALLOW policies say. */
  DENY = 'DENY',
  /** Hand matching requests to an external authorizer (a meshConfig extension provider). */
  CUSTOM = 'CUSTOM',
  /** Mark matching requests for audit; does not change the decision. */
  AUDIT = 'AUDIT',
}

/** The annotation that makes Istio log, not enforce, an AuthorizationPolicy. */
export const DRY_RUN_ANNOTATION = 'istio.io/dry-run';

/**
 * An object a policy attaches to with `targetRefs` instead of a workload selector: a waypoint or gateway, a
 * Service behind a waypoint, or a ServiceEntry.
 * @see https://istio.io/latest/docs/ambient/usage/l7-features/#targeting-policies-or-routing-rules
 */
export class PolicyTarget {
  /** A Gateway API Gateway: a waypoint (every service using it) or a gateway deployed from a Gateway. */
  public static gateway(name: string): PolicyTarget {
    return new PolicyTarget('gateway.networking.k8s.io', 'Gateway', name);
  }

  /** A Service, as its waypoint sees it: the policy applies to traffic to that Service through the waypoint. */
  public static service(name: string): PolicyTarget {
    return new PolicyTarget('', 'Service', name);
  }

  /** A ServiceEntry, as its waypoint sees it. */
  public static serviceEntry(name: string): PolicyTarget {
    return new PolicyTarget('networking.istio.io', 'ServiceEntry', name);
  }

  private constructor(
    /** The API group (`''` for the core group). */
    public readonly group: string,
    /** The kind. */
    public readonly kind: string,
    /** The object's name, in the policy's namespace. */
    public readonly name: string,
  ) {}

  /** @internal */
  public _render(): any {
    return { group: this.group, kind: this.kind, name: this.name };
  }
}

/** Properties of an {@link AuthorizationPolicy}. */
export interface AuthorizationPolicyProps {
  /**
   * The policy's name.
   * @default - generated from the construct path
   */
  readonly name?: string;
  /**
   * The policy's namespace; a policy in the root namespace applies mesh-wide.
   * @default - the selector's namespace, else the chart's, else `default`
   */
  readonly namespace?: string;
  /**
   * The workloads it applies to (enforced by their sidecars, or by ztunnel in ambient mode).
   * @default - every workload of the namespace, unless `targets` are set
   */
  readonly selector?: WorkloadSelector;
  /**
   * The waypoints, gateways, Services or ServiceEntries it attaches to instead of a selector; in ambient mode, L7
   * rules need this (a waypoint enforces them).
   * @default - none: the selector decides
   */
  readonly targets?: PolicyTarget[];
  /**
   * What the policy does with matching requests.
   * @default AuthorizationAction.ALLOW
   */
  readonly action?: AuthorizationAction;
  /**
   * The extension provider of a CUSTOM policy, as named in meshConfig `extensionProviders`.
   * @default - none; required with CUSTOM
   */
  readonly provider?: string;
  /**
   * The rules; more can be added with `addRule`. An ALLOW policy without rules denies every request to its
   * workloads (Istio's "allow nothing").
   * @default - none
   */
  readonly rules?: AuthorizationRule[];
  /**
   * Emit the policy with `istio.io/dry-run: "true"`: Istio logs what it would decide without enforcing it.
   * @default false
   */
  readonly dryRun?: boolean;
  /**
   * How the workloads the policy selects join the mesh; in ambient mode a selector policy is enforced by ztunnel,
   * which cannot enforce L7 rules.
   * @default - the namespace's (set by its ZeroTrustNamespace), else the Mesh's data plane mode
   */
  readonly dataplaneMode?: DataplaneMode;
}

/**
 * An Istio AuthorizationPolicy: who may call the selected workloads, and what they may do.
 *
 * Rules are validated when they are added: an ALLOW rule must name its sources (`Source.anyone()` to admit every
 * caller on purpose), wildcard principals must be asked for, methods must be HTTP methods, paths well formed, and
 * identities of the mesh's trust domain. In ambient mode, L7 rules on a selector policy are refused: ztunnel would
 * silently turn them into "deny" (ALLOW) or "deny more" (DENY); attach them to a waypoint with `targets`.
 *
 * @example
 * const policy = new AuthorizationPolicy(chart, 'BackendReaders', {
 *   selector: WorkloadSelector.fromWorkload(backend),
 *   rules: [{
 *     from: [Source.identity(ServiceIdentity.fromName('shop', 'frontend')), Source.namespace('reporting')],
 *     to: [{ methods: ['GET'], paths: ['/api/*'] }],
 *   }],
 * });
 * @see https://istio.io/latest/docs/reference/config/security/authorization-policy/
 */
export class AuthorizationPolicy extends Construct {
  /** The AuthorizationPolicy object. */
  public readonly apiObject: ApiObject;
  /** The policy's namespace. */
  public readonly namespace: string;
  /** What the policy does with matching requests. */
  public readonly action: AuthorizationAction;
  /** Whether the policy is emitted in dry run. */
  public readonly dryRun: boolean;
  private readonly selector?: WorkloadSelector;
  private readonly targets: PolicyTarget[];
  private readonly provider?: string;
  private readonly dataplaneMode: DataplaneMode;
  private readonly renderedRules: any[] = [];
  private ruleTransform?: (rules: any[]) => any[];
  private readonly ruleList: AuthorizationRule[] = [];

  public constructor(scope: Construct, id: string, props: AuthorizationPolicyProps = {}) {
    super(scope, id);
    const mesh = Mesh.of(this);
    this.action = props.action ?? AuthorizationAction.ALLOW;
    if (!Object.values(AuthorizationAction).includes(this.action)) {
      throw configError(this, 'action', this.action, 'use an AuthorizationAction');
    }
    this.selector = props.selector;
    this.targets = [...(props.targets ?? [])];
    if (this.targets.length) requireIstio(this, 'targets', 22, 'targetRefs');
    if (this.targets.some(t => t.kind === 'ServiceEntry')) requireIstio(this, 'targets', 24, 'a ServiceEntry as a policy target');
    this.provider = props.provider;
    this.dryRun = props.dryRun ?? false;
    this.namespace = requireDnsLabel(this, 'namespace', props.namespace ?? this.selector?.namespace ?? Chart.of(this).namespace ?? 'default');
    this.dataplaneMode = namespaceDataplane(this, this.namespace, props.dataplaneMode);
    if (props.name !== undefined) requireDnsLabel(this, 'name', props.name);
    if (this.selector && this.targets.length) {
      throw configError(this, 'targets', this.targets.map(t => `${t.kind}/${t.name}`), 'set either a selector or targets, not both');
    }
    if (this.selector && this.selector.namespace !== this.namespace && this.namespace !== mesh.rootNamespace) {
      throw configError(this, 'selector', this.selector.namespace,
        `a selector matches workloads of the policy's namespace '${this.namespace}' only: put the policy in '${this.selector.namespace}'`);
    }
    if (this.targets.length > 16) throw configError(this, 'targets', this.targets.length, 'attach a policy to at most 16 targets');
    if ((this.action === AuthorizationAction.CUSTOM) !== (this.provider !== undefined)) {
      throw configError(this, 'provider', this.provider,
        this.action === AuthorizationAction.CUSTOM ? 'a CUSTOM policy names its extension provider' : 'a provider belongs to CUSTOM policies only');
    }
    if (this.dryRun && ![AuthorizationAction.ALLOW, AuthorizationAction.DENY].includes(this.action)) {
      throw configError(this, 'dryRun', this.action, 'Istio dry-runs ALLOW and DENY policies only');
    }
    if (this.dryRun && this.dataplaneMode === DataplaneMode.AMBIENT && !this.targets.length && mesh._istioMinor < 25) {
      throw configError(this, 'dryRun', mesh.istioVersion,
        'ztunnel before Istio 1.25 ignores the dry-run annotation and enforces the policy: upgrade, or attach the policy to a waypoint');
    }
    const ztunnelActions = [AuthorizationAction.ALLOW, AuthorizationAction.DENY];
    if (this.dataplaneMode === DataplaneMode.AMBIENT && !ztunnelActions.includes(this.action) && !this.targets.length) {
      throw configError(this, 'action', this.action, `ztunnel does not support ${this.action} policies: attach the policy to a waypoint with targets`);
    }

    // The rules are checked before the object exists: a refused rule leaves no "allow nothing" policy behind.
    const initial = (props.rules ?? []).map((rule, i) => this.checkRule(rule, `rules[${i}]`));
    this.apiObject = new ApiObject(this, 'Resource', objectProps(security.AuthorizationPolicy.GVK, {
      metadata: {
        ...(props.name !== undefined ? { name: props.name } : {}),
        namespace: this.namespace,
        ...(this.dryRun ? { annotations: { [DRY_RUN_ANNOTATION]: 'true' } } : {}),
      },
      spec: Lazy.any({ produce: () => this.render() }),
    }));
    (props.rules ?? []).forEach((rule, i) => this.push(rule, initial[i]));
  }

  /** The policy's name. */
  public get name(): string {
    return this.apiObject.name;
  }

  /** The rules added so far. */
  public get rules(): AuthorizationRule[] {
    return [...this.ruleList];
  }

  /** Whether any rule needs L7 (methods, paths, hosts, headers, JWT). */
  public get needsL7(): boolean {
    return this.ruleList.some(ruleNeedsL7);
  }

  /**
   * Adds a rule: a request matches the policy when it matches any of its rules.
   * @example
   * policy.addRule({ from: [Source.ingressGateway()], to: [{ methods: ['GET'], paths: ['/shop/*'] }] });
   */
  public addRule(rule: AuthorizationRule): void {
    this.push(rule, this.checkRule(rule, `rules[${this.ruleList.length}]`));
  }

  /**
   * @internal Adds a rule its caller has checked and rendered already, naming fields its own way in errors (the
   * placement decides the ambient L4/L7 question there too).
   */
  public _addCheckedRule(rule: AuthorizationRule, rendered: any): void {
    this.push(rule, rendered);
  }

  /** @internal Rewrites the rendered rules when the spec is produced (for facts known only later). */
  public _transformRules(transform: (rules: any[]) => any[]): void {
    this.ruleTransform = transform;
  }

  private checkRule(rule: AuthorizationRule, prop: string): any {
    const rendered = renderRule(this, prop, rule, this.action === AuthorizationAction.ALLOW);
    if (this.dataplaneMode === DataplaneMode.AMBIENT && !this.targets.length && ruleNeedsL7(rule)) {
      throw configError(this, prop, 'L7 fields',
        'in ambient mode ztunnel enforces selector policies at L4 only and would never match (ALLOW) or over-match (DENY) methods, paths, hosts, headers and JWT fields: attach the policy to a waypoint with targets, or keep the rule to identities, namespaces, IPs and ports');
    }
    return rendered;
  }

  private push(rule: AuthorizationRule, rendered: any): void {
    if (this.ruleList.length >= 512) throw configError(this, 'rules', this.ruleList.length + 1, 'a policy has at most 512 rules');
    this.ruleList.push(rule);
    this.renderedRules.push(rendered);
  }

  private transformed(): any[] {
    // A transform gets copies, so it cannot change the rules it rewrites for the next synthesis.
    return this.ruleTransform ? this.ruleTransform(this.renderedRules.map(r => JSON.parse(JSON.stringify(r)))) : this.renderedRules;
  }

  private render(): any {
    const action = this.action;
    const bare = action === AuthorizationAction.ALLOW && this.renderedRules.length === 0;
    return {
      ...(this.selector ? { selector: { matchLabels: this.selector.labels } } : {}),
      ...(this.targets.length ? { targetRefs: this.targets.map(t => t._render()) } : {}),
      // "Allow nothing" stays the empty spec Istio documents (plus what it applies to).
      ...(bare ? {} : { action }),
      ...(this.provider ? { provider: { name: this.provider } } : {}),
      ...(this.renderedRules.length ? { rules: this.transformed() } : {}),
    };
  }
}
