import { App } from 'cdk8s';
import { percent } from './_graph';
import { MeshModel, ModelAllowance, ModelRoute, ModelService, sortedUnique } from './_mesh-model';
import { readApp, readModel } from './_sources';
import { ANY_CALLER } from './_who-may-call';
import { ManifestReadOptions } from './mesh-diagram';
import { AnalysisMeshConfig } from '../analysis/analysis-mesh-config';
import { AnalysisReport } from '../analysis/analysis-report';
import { AnalysisFinding, AnalysisLevel, AnalyzerRun } from '../analysis/finding';
import { MeshAnalysis } from '../analysis/mesh-analysis';
import { MeshAnalyzer } from '../analysis/mesh-analyzer';
import { GatewayWorkload } from '../mesh/gateway-workload';

/** Options of a {@link TrafficPlan}. */
export interface TrafficPlanOptions extends ManifestReadOptions {
  /**
   * The analysis findings to list, instead of running the analysis.
   * @default - the findings of `MeshAnalyzer.analyze` on the same manifests, with the same mesh settings (with
   * `fromApp`, of the app's `MeshAnalysis` when it has one)
   */
  readonly findings?: AnalysisFinding[];
  /**
   * Whether to run the mesh analysis for the findings section when `findings` is not given.
   * @default true
   */
  readonly analyze?: boolean;
  /**
   * The plan's title.
   * @default 'Traffic plan'
   */
  readonly title?: string;
}

/** Escapes a table cell. */
function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, '<br>');
}
const code = (s: string) => `\`${s.replace(/`/g, '\'')}\``;
function table(header: string[], rows: string[][]): string[] {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map(r => `| ${r.map(cell).join(' | ')} |`)];
}

/**
 * A review of the app's traffic, as Markdown: per service its versions, routes (weights, matches, mirrors) and
 * exposure; a matrix of who may call whom; the egress allow-list; and analysis findings. A reviewer reads it in
 * the pull request instead of diffing YAML.
 *
 * @example
 * app.synth();
 * fs.writeFileSync('dist/TRAFFIC.md', TrafficPlan.fromApp(app).toMarkdown());
 */
export class TrafficPlan {
  /**
   * The plan of manifests synthesized by any tool.
   * @param manifests the Kubernetes objects
   * @param options how to read them, and the findings to list
   */
  public static fromManifests(manifests: any[], options: TrafficPlanOptions = {}): TrafficPlan {
    const model = readModel(manifests, options);
    return new TrafficPlan(model, options, () => analyze(manifests, model, options));
  }

  /**
   * The plan of a cdk8s App, synthesized in memory; its Mesh supplies the defaults of `options`.
   * @param app the app
   * @param options how to read its manifests, and the findings to list
   */
  public static fromApp(app: App, options: TrafficPlanOptions = {}): TrafficPlan {
    const { manifests, mesh } = readApp(app);
    const model = readModel(manifests, options, mesh);
    const analysis = app.node.findAll().find((c): c is MeshAnalysis => c instanceof MeshAnalysis);
    return new TrafficPlan(model, options, () => (analysis ? analysis.analyze() : analyze(manifests, model, options)));
  }

  private readonly report?: { findings: AnalysisFinding[]; incomplete: AnalyzerRun[] };

  private constructor(private readonly model: MeshModel, private readonly options: TrafficPlanOptions, runAnalysis: () => AnalysisReport) {
    if (options.findings) {
      this.report = { findings: options.findings, incomplete: [] };
    } else if (options.analyze ?? true) {
      const report = runAnalysis();
      this.report = { findings: report.findings, incomplete: report.incompleteAnalyzers() };
    }
  }

  /** The plan as a Markdown document. */
  public toMarkdown(): string {
    const m = this.model;
    const out: string[] = [
      `# ${this.options.title ?? 'Traffic plan'}`,
      '',
      `Read from ${m.objectCount} ${m.objectCount === 1 ? 'object' : 'objects'}` +
        `${m.namespaces.length ? ` in ${m.namespaces.length === 1 ? 'namespace' : 'namespaces'} ${m.namespaces.map(code).join(', ')}` : ''}. ` +
        'Routes are listed in the order Istio evaluates them: the first match wins.',
    ];
    out.push('', '## Services');
    if (!m.services.length) out.push('', 'No Services.');
    for (const s of m.services) out.push(...this.service(s));
    const others = m.routeTables.filter(t => !t.owner?.startsWith('svc:') && !t.owner?.startsWith('ext:'));
    for (const t of others) out.push('', `### ${t.source}`, '', `Hosts ${t.hosts.map(code).join(', ') || '(none)'}.`, '', ...this.routes(t.routes));
    if (m.workloads.length) {
      out.push('', '### Workloads without a Service', '');
      out.push(...table(['Workload', 'Service account', 'Images'], m.workloads.map(w => [`${w.kind} ${w.namespace}/${w.name}`, w.serviceAccount, w.images.join(', ')])));
    }
    out.push('', ...this.gateways());
    out.push('', ...this.matrix());
    out.push('', ...this.egress());
    out.push('', ...this.findings());
    return `${out.join('\n')}\n`;
  }

  private name(key: string): string {
    if (key === ANY_CALLER) return 'any caller';
    if (key.startsWith('ns:')) return `any workload in ${key.slice(3)}`;
    const kind = key.slice(0, key.indexOf(':'));
    const rest = key.slice(kind.length + 1);
    if (kind === 'ver') {
      const [namespace, service, version] = rest.split('/');
      return `${namespace}/${service} ${version}`;
    }
    return rest;
  }

  private service(s: ModelService): string[] {
    const out = ['', `### ${s.namespace}/${s.name}`, ''];
    const facts = [`Host ${code(s.host)}`];
    if (s.ports.length) facts.push(`ports ${s.ports.join(', ')}`);
    if (s.destinationRules.length) facts.push(`DestinationRule ${s.destinationRules.join(', ')}${s.policy.length ? `: ${s.policy.join(', ')}` : ''}`);
    out.push(`${facts.join(' · ')}.`, '');
    const versions = s.versions.length ? s.versions.map(v => ({ name: v.name, workloads: v.workloads, policy: v.policy, backend: v.backendService }))
      : [{ name: '-', workloads: s.workloads, policy: [] as string[], backend: undefined }];
    out.push(...table(['Version', 'Workloads', 'Images', 'Service account', 'Own policy'], versions.map(v => [
      v.name + (v.backend ? ` (Service ${v.backend})` : ''),
      v.workloads.map(w => `${w.kind} ${w.name}${w.replicas !== undefined ? ` ×${w.replicas}` : ''}`).join(', ') || 'none selected',
      sortedUnique(v.workloads.flatMap(w => w.images)).join(', '),
      sortedUnique(v.workloads.map(w => w.serviceAccount)).join(', '),
      v.policy.join(', '),
    ])));
    for (const t of this.model.routeTables.filter(r => r.owner === s.key)) {
      const whose = t.callers ? `, for in-mesh callers in ${t.callers.length ? t.callers.join(', ') : 'no namespace'} only` : '';
      out.push('', `Routes of ${t.source}${t.gateways.length ? ` (${t.gateways.map(g => (g.startsWith('gw:') ? g.slice(3) : g)).join(', ')})` : ''}${whose}:`, '',
        ...this.routes(t.routes));
    }
    const exposures = this.model.exposures.filter(x => x.target === s.key);
    if (exposures.length) {
      out.push('', 'Exposed:', '');
      for (const x of exposures) out.push(`- ${code(x.host)} through ${this.name(x.gateway)} (${x.via})`);
    }
    return out;
  }

  private routes(routes: ModelRoute[]): string[] {
    if (!routes.length) return ['No routes.'];
    return table(['#', 'Route', 'When', 'To', 'Mirror', 'Also'], routes.map((r, i) => [
      String(i + 1),
      r.name ?? `(${r.protocol})`,
      [r.matches.join('\nor ') || 'every request', ...(r.gateways.length ? [`from ${r.gateways.join(', ')}`] : [])].join('\n'),
      r.destinations.map(d => `${this.name(d.target)}${d.port ? `:${d.port}` : ''} ${percent(d.weight)}`).join('\n') || '-',
      r.mirrors.map(x => `${this.name(x.target)} ${percent(x.percent)}`).join('\n'),
      r.details.join('\n'),
    ]));
  }

  private gateways(): string[] {
    const out = ['## Gateways', ''];
    if (!this.model.gateways.length) return [...out, 'No gateways.'];
    return [...out, ...table(['Gateway', 'Kind', 'Configured by', 'Listeners', 'Serves'], this.model.gateways.map(g => [
      `${g.namespace ? `${g.namespace}/` : ''}${g.name}`,
      g.description,
      g.objects.join('\n'),
      g.servers.join('\n'),
      sortedUnique(this.model.exposures.filter(x => x.gateway === g.key).map(x => `${x.host} → ${this.name(x.target)}`))
        .concat(this.model.externals.filter(e => e.via === g.key).map(e => `egress to ${e.host}`)).join('\n'),
    ]))];
  }

  private callerName(key: string): string {
    const identity = this.model.identities.find(i => i.key === key);
    if (!identity) return this.name(key);
    const nodes = identity.nodes.map(n => this.name(n));
    return nodes.length ? `${nodes.join(', ')} (sa ${identity.serviceAccount})` : identity.principal;
  }

  private matrix(): string[] {
    const m = this.model;
    const out = ['## Who may call whom', ''];
    // Every service with workloads is a column, so one nobody may call (an "allow nothing" policy) shows as refused.
    const served = m.services.filter(s => s.workloads.length || s.versions.some(v => v.workloads.length)).map(s => s.key);
    const targets = sortedUnique([...served, ...m.allowances.map(a => a.to)]);
    if (!targets.length) return [...out, 'No service runs workloads the authorization policies could apply to.'];
    const drawn = new Set([...m.services.map(s => s.key), ...m.workloads.map(w => `wl:${w.namespace}/${w.name}`), ...m.gateways.map(g => g.key)]);
    const callers = [ANY_CALLER, ...sortedUnique([
      ...m.identities.filter(i => i.nodes.some(n => drawn.has(n))).map(i => i.key),
      ...m.allowances.map(a => a.from).filter(f => f !== ANY_CALLER),
    ])];
    const find = (from: string, to: string): ModelAllowance | undefined => m.allowances.find(a => a.from === from && a.to === to);
    const notes: string[] = [];
    const numbers = new Map<ModelAllowance, number>();
    const rows = callers.map(caller => [this.callerName(caller), ...targets.map(to => {
      // A caller without a permission of its own has what any caller has.
      const a = find(caller, to) ?? (caller === ANY_CALLER ? undefined : find(ANY_CALLER, to));
      if (!a || a.refused) return '✖';
      if (!a.conditions.length) return a.policies.length ? '✅' : 'open';
      if (!numbers.has(a)) {
        notes.push(`${this.callerName(a.from)} → ${this.name(to)}: ${a.conditions.join('; or ')}${a.policies.length ? ` (${a.policies.join(', ')})` : ''}`);
        numbers.set(a, notes.length);
      }
      return `⚠️ ${numbers.get(a)}`;
    })]);
    out.push('Callers in rows, callees in columns. ✅ allowed; ⚠️ allowed for some requests (see the notes); ✖ refused; ' +
      'open: no authorization policy applies, so every caller is allowed. Every caller may also do what "any caller" may. ' +
      'Decided by the AuthorizationEvaluator on requests made from the policies\' own rules.', '');
    out.push(...table(['Caller \\ callee', ...targets.map(t => this.name(t))], rows));
    if (notes.length) out.push('', ...notes.map((n, i) => `${i + 1}. ${n}`));
    if (m.policies.length) out.push('', `Authorization policies read: ${m.policies.join(', ')}.`);
    return out;
  }

  private egress(): string[] {
    const m = this.model;
    const out = ['## Egress allow-list', ''];
    if (m.egressModes.length) {
      out.push(`Outbound traffic policy: ${m.egressModes.map(e => `${e.namespace === '*' ? 'mesh-wide' : e.namespace} ${code(e.mode)}`).join(', ')}` +
        ' (REGISTRY_ONLY: only the hosts below and in-mesh services are reachable).', '');
    }
    if (!m.externals.length) return [...out, 'No ServiceEntries: no external hosts are declared.'];
    const servedBy = (key: string) => sortedUnique(m.exposures.filter(x => x.target === key).map(x => `from ${this.name(x.gateway)} for ${x.host}`));
    return [...out, ...table(['Host', 'Ports', 'Resolution', 'Route', 'Visible to', 'Who may call', 'Declared by'], m.externals.map(e => {
      const callers = m.allowances.filter(a => a.to === e.key && !a.refused)
        .map(a => `${this.callerName(a.from)}${a.conditions.length ? ` if ${a.conditions.join(' or ')}` : a.policies.length === 0 ? ' (no policy)' : ''}`);
      return [
        e.host + (e.location === 'MESH_INTERNAL' ? ' (mesh-internal)' : ''),
        e.ports.join(', '),
        e.resolution,
        (e.via ? `through ${this.name(e.via)}` : servedBy(e.key).join('\n') || 'direct from sidecars') + (e.tlsOrigination ? ', TLS originated by the mesh' : ''),
        e.exportTo.map(x => (x === '.' ? e.namespace : x === '*' ? 'all namespaces' : x)).join(', '),
        e.via ? callers.join('\n') || 'nobody' : servedBy(e.key).length ? 'the gateway' : 'any workload it is visible to',
        `ServiceEntry ${e.serviceEntry}`,
      ];
    }))];
  }

  private findings(): string[] {
    const out = ['## Analysis findings', ''];
    if (!this.report) return [...out, 'Analysis was not run.'];
    const { findings, incomplete } = this.report;
    const rank = (level: string) => [AnalysisLevel.ERROR, AnalysisLevel.WARNING, AnalysisLevel.INFO].indexOf(level as AnalysisLevel) + 1 || 4;
    const sorted = [...findings].sort((a, b) => rank(a.level) - rank(b.level)
      || a.resource.localeCompare(b.resource) || a.code.localeCompare(b.code));
    out.push(...(findings.length ? table(['Level', 'Code', 'Resource', 'Finding'], sorted.map(f => [
      f.level,
      `${f.code} ${f.name}`,
      f.resource + (f.constructPath ? ` (${f.constructPath})` : ''),
      f.message,
    ])) : ['No findings.']));
    if (incomplete.length) {
      out.push('', `Not every check could run, for lack of the kinds they need among the manifests: ${incomplete.map(a => a.name).join(', ')}` +
        ' (`cdk8s-istio analyze` says why).');
    }
    return out;
  }

}

/** The mesh analysis of manifests, with the settings the plan read them with. */
function analyze(manifests: any[], model: MeshModel, options: TrafficPlanOptions): AnalysisReport {
  const { rootNamespace, trustDomain, gateways } = model.options;
  return MeshAnalyzer.analyze(manifests, {
    meshConfig: AnalysisMeshConfig._assumed({ rootNamespace, trustDomain }),
    gatewayWorkloads: options.gateways ?? gateways.map(g => GatewayWorkload.custom({ ...g })),
  });
}
