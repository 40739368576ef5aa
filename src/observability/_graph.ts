// The mesh model as a graph of nodes and styled edges, and its two renderings: Mermaid (renders on GitHub) and
// Graphviz DOT. Every list is sorted, so the same manifests give the same text.
import { MeshModel, ModelRoute, gatewayKey, gatewayRole, routesMesh, sortedUnique } from './_mesh-model';
import { ANY_CALLER } from './_who-may-call';

/** @internal */
export enum NodeShape { SERVICE, VERSION, WORKLOAD, GATEWAY, EXTERNAL, IDENTITY, ANY, HOST }

/** @internal */
export enum EdgeStyle { ROUTE, MIRROR, ALLOW }

/** @internal */
export interface GraphNode {
  readonly key: string;
  readonly id: string;
  readonly lines: string[];
  readonly shape: NodeShape;
  /** The namespace box it is drawn in, `external` for hosts outside the mesh, '' for none. */
  readonly cluster: string;
}

/** @internal */
export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly label: string;
  readonly style: EdgeStyle;
}

/** @internal */
export interface Graph {
  readonly nodes: GraphNode[];
  readonly edges: GraphEdge[];
  /** Titles of the namespace boxes. */
  readonly titles: { [cluster: string]: string };
}

const EXTERNAL_CLUSTER = 'external';

/** Conditions of one alternative of a route's match, as a set. */
function conditionSets(route: ModelRoute): Set<string>[] {
  return route.matches.length ? route.matches.map(m => new Set(m.split(' & '))) : [new Set()];
}

/** Whether every request `a` matches is matched by `b`. */
function subsumes(b: ModelRoute, a: ModelRoute): boolean {
  const bs = conditionSets(b);
  return conditionSets(a).every(ac => bs.some(bc => [...bc].every(c => ac.has(c))));
}

const sameTargets = (a: ModelRoute, b: ModelRoute) =>
  JSON.stringify([a.destinations, a.mirrors]) === JSON.stringify([b.destinations, b.mirrors]);

/**
 * @internal The routes worth drawing: a route followed by one that sends the same requests to the same places
 * (a retry-specific copy for POST, say) says nothing the picture would show.
 */
export function drawnRoutes(routes: ModelRoute[]): ModelRoute[] {
  const out = [...routes];
  for (let i = out.length - 2; i >= 0; i--) {
    if (sameTargets(out[i], out[i + 1]) && subsumes(out[i + 1], out[i])) out.splice(i, 1);
  }
  return out;
}

/** @internal A number as a percentage without useless decimals. */
export function percent(n: number): string {
  return `${Number(n.toFixed(2))}%`;
}

/** @internal The last path segment of an image, the part a reader recognises (`shop-backend:2.1.0`). */
export function shortImage(image: string): string {
  return image.split('/').pop() ?? image;
}

/** The node for a key no service, version, workload, gateway or external host of the model has. */
function fallbackNode(model: MeshModel, key: string): [string[], NodeShape, string] {
  if (key === ANY_CALLER) return [['any caller'], NodeShape.ANY, ''];
  if (key.startsWith('host:')) return [[key.slice(5), 'unknown host'], NodeShape.HOST, ''];
  if (key.startsWith('ns:')) return [[`any workload in ${key.slice(3)}`], NodeShape.IDENTITY, key.slice(3)];
  if (key.startsWith('gw:')) {
    // A gateway deployment installed outside the manifests, calling services.
    const info = model.options.gateways.find(g => gatewayKey(g) === key);
    const [namespace, name] = key.slice(3).split('/');
    return [[name ?? namespace, info ? `${gatewayRole(info)} gateway` : 'gateway'], NodeShape.GATEWAY, name ? namespace : ''];
  }
  const identity = /^id:([^/]+)\/([^/]+)$/.exec(key);
  if (identity) return [[`service account ${identity[2]}`], NodeShape.IDENTITY, identity[1]];
  return [[key.replace(/^id:/, '')], key.startsWith('id:') ? NodeShape.IDENTITY : NodeShape.HOST, ''];
}

/** @internal Builds the drawable graph of a model. */
export function buildGraph(model: MeshModel): Graph {
  const nodes = new Map<string, Omit<GraphNode, 'id'>>();
  const add = (key: string, lines: string[], shape: NodeShape, cluster: string) => {
    if (!nodes.has(key)) nodes.set(key, { key, lines, shape, cluster });
  };
  for (const s of model.services) {
    add(s.key, [s.name], NodeShape.SERVICE, s.namespace);
    for (const v of s.versions) {
      const images = sortedUnique(v.workloads.flatMap(w => w.images).map(shortImage));
      add(v.key, [`${s.name} ${v.name}`, ...images], NodeShape.VERSION, s.namespace);
    }
  }
  for (const w of model.workloads) add(`wl:${w.namespace}/${w.name}`, [w.name, w.kind], NodeShape.WORKLOAD, w.namespace);
  for (const g of model.gateways) add(g.key, [g.name, g.description], NodeShape.GATEWAY, g.namespace);
  const fromGateway = new Set(model.exposures.map(x => x.target));
  for (const e of model.externals) {
    const direct = !e.via && !fromGateway.has(e.key);
    add(e.key, [e.host, e.ports.join(', '), direct ? 'direct from sidecars' : ''].filter(l => l), NodeShape.EXTERNAL, EXTERNAL_CLUSTER);
  }

  const edges = new Map<string, GraphEdge>();
  const edge = (from: string, to: string, label: string, style: EdgeStyle) => {
    if (from === to) return;
    for (const k of [from, to]) {
      if (nodes.has(k)) continue;
      const [lines, shape, cluster] = fallbackNode(model, k);
      add(k, lines, shape, cluster);
    }
    edges.set(`${style} ${from} ${to} ${label}`, { from, to, label, style });
  };

  // Routes of in-mesh services: weights, matched routes and mirrors.
  for (const table of model.routeTables) {
    // Egress tables are drawn as the hop through the gateway; tables of gateways only, from the gateway.
    if (!table.owner || table.owner.startsWith('ext:') || table.callers?.length === 0) continue;
    // Routes only some namespaces' callers take (exportTo, a consumer route) say whose.
    const whose = table.callers ? ` (callers in ${table.callers.join(', ')})` : '';
    for (const route of drawnRoutes(table.routes.filter(r => routesMesh(table, r)))) {
      const when = route.matches.join(' or ');
      for (const d of route.destinations) {
        const share = d.weight === 100 && when ? '' : percent(d.weight);
        edge(table.owner, d.target, `${[when, share].filter(x => x).join(': ')}${whose}`, EdgeStyle.ROUTE);
      }
      for (const m of route.mirrors) edge(table.owner, m.target, `mirror ${percent(m.percent)}${whose}`, EdgeStyle.MIRROR);
    }
  }
  // Gateways: the public hosts they serve, to the service behind each.
  const exposed = new Map<string, string[]>();
  for (const x of model.exposures) {
    const k = `${x.gateway}\n${x.target}`;
    exposed.set(k, [...(exposed.get(k) ?? []), x.host]);
  }
  for (const [k, hosts] of exposed) {
    const [from, to] = k.split('\n');
    edge(from, to, sortedUnique(hosts).join(', '), EdgeStyle.ROUTE);
  }
  // Egress through a gateway or waypoint.
  for (const e of model.externals) if (e.via) edge(e.via, e.key, [...e.ports, ...(e.tlsOrigination ? ['TLS originated'] : [])].join(', '), EdgeStyle.ROUTE);
  // Who may call whom.
  const identities = new Map(model.identities.map(i => [i.key, i]));
  const refusedTo = (to: string) => model.allowances.filter(r => r.refused && r.to === to);
  const callerLabel = (key: string) => {
    const identity = identities.get(key);
    return identity ? `${identity.namespace}/${identity.serviceAccount}` : key.replace(/^id:/, '');
  };
  for (const a of model.allowances) {
    if (a.refused) continue;
    const granted = a.conditions.length ? a.conditions.join(' or ') : a.policies.length === 0 ? 'no policy' : 'may call';
    // Any caller's edge names those refused what it allows.
    const refusedCallers = a.from === ANY_CALLER ? refusedTo(a.to).map(r => callerLabel(r.from)) : [];
    const label = refusedCallers.length ? `${granted}, not ${sortedUnique(refusedCallers).join(', ')}` : granted;
    const identity = identities.get(a.from);
    const froms = identity?.nodes.length ? identity.nodes : [a.from];
    for (const from of froms) edge(from, a.to, label, EdgeStyle.ALLOW);
  }

  // Stable, readable, unique ids.
  const ids = new Map<string, string>();
  const used = new Set<string>();
  for (const key of [...nodes.keys()].sort()) {
    const base = key.replace(/[^A-Za-z0-9]+/g, '_').replace(/_+$/, '');
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
    used.add(id);
    ids.set(key, id);
  }
  const order = (e: GraphEdge) => `${e.style} ${e.from} ${e.to} ${e.label}`;
  const titles: { [cluster: string]: string } = { [EXTERNAL_CLUSTER]: 'outside the mesh' };
  for (const n of nodes.values()) {
    if (n.cluster === EXTERNAL_CLUSTER || !n.cluster) continue;
    const mode = model.egressModes.find(m => m.namespace === n.cluster) ?? model.egressModes.find(m => m.namespace === '*');
    titles[n.cluster] = `namespace ${n.cluster}${mode ? `, outbound ${mode.mode}` : ''}`;
  }
  return {
    titles,
    nodes: [...nodes.values()].map(n => ({ ...n, id: ids.get(n.key)! })).sort((a, b) => (a.id < b.id ? -1 : 1)),
    edges: [...edges.values()].map(e => ({ ...e, from: ids.get(e.from)!, to: ids.get(e.to)! }))
      .sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0)),
  };
}

function clusters(graph: Graph): Map<string, GraphNode[]> {
  const out = new Map<string, GraphNode[]>();
  for (const n of graph.nodes) out.set(n.cluster, [...(out.get(n.cluster) ?? []), n]);
  return new Map([...out].sort(([a], [b]) => (a === EXTERNAL_CLUSTER ? 1 : b === EXTERNAL_CLUSTER ? -1 : a < b ? -1 : 1)));
}

const clusterId = (c: string) => (c === EXTERNAL_CLUSTER ? 'external' : `ns_${c.replace(/[^A-Za-z0-9]+/g, '_')}`);

function mermaidText(s: string): string {
  return s.replace(/&/g, '#amp;').replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;').replace(/\|/g, '#124;');
}

const MERMAID_SHAPES: { [shape: number]: [string, string] } = {
  [NodeShape.SERVICE]: ['[["', '"]]'],
  [NodeShape.VERSION]: ['(["', '"])'],
  [NodeShape.WORKLOAD]: ['["', '"]'],
  [NodeShape.GATEWAY]: ['{{"', '"}}'],
  [NodeShape.EXTERNAL]: ['[/"', '"/]'],
  [NodeShape.IDENTITY]: ['>"', '"]'],
  [NodeShape.ANY]: ['(("', '"))'],
  [NodeShape.HOST]: ['["', '"]'],
};

/** @internal Mermaid flowchart: routes solid, mirrors dashed, permissions to call dotted. */
export function toMermaid(graph: Graph): string {
  const lines = ['flowchart LR'];
  for (const [cluster, members] of clusters(graph)) {
    const indent = cluster ? '    ' : '  ';
    if (cluster) lines.push(`  subgraph ${clusterId(cluster)}["${mermaidText(graph.titles[cluster])}"]`);
    for (const n of members) {
      const [open, close] = MERMAID_SHAPES[n.shape];
      lines.push(`${indent}${n.id}${open}${n.lines.map(mermaidText).join('<br/>')}${close}`);
    }
    if (cluster) lines.push('  end');
  }
  const mirrors: number[] = [];
  const allows: number[] = [];
  graph.edges.forEach((e, i) => {
    const arrow = e.style === EdgeStyle.ROUTE ? '-->' : '-.->';
    lines.push(`  ${e.from} ${arrow}${e.label ? `|"${mermaidText(e.label)}"|` : ''} ${e.to}`);
    if (e.style === EdgeStyle.MIRROR) mirrors.push(i);
    if (e.style === EdgeStyle.ALLOW) allows.push(i);
  });
  if (mirrors.length) lines.push(`  linkStyle ${mirrors.join(',')} stroke-dasharray:8 4`);
  if (allows.length) lines.push(`  linkStyle ${allows.join(',')} stroke-dasharray:2 3,stroke:#2e8b57,color:#2e8b57`);
  return `${lines.join('\n')}\n`;
}

/** A DOT string literal; the lines are joined with DOT's centred line break. */
function dotText(...lines: string[]): string {
  return `"${lines.map(s => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')).join('\\n')}"`;
}

const DOT_SHAPES: { [shape: number]: string } = {
  [NodeShape.SERVICE]: 'shape=box, style="rounded,bold"',
  [NodeShape.VERSION]: 'shape=box, style=rounded',
  [NodeShape.WORKLOAD]: 'shape=box',
  [NodeShape.GATEWAY]: 'shape=hexagon',
  [NodeShape.EXTERNAL]: 'shape=parallelogram',
  [NodeShape.IDENTITY]: 'shape=cds',
  [NodeShape.ANY]: 'shape=circle',
  [NodeShape.HOST]: 'shape=box, style=dashed',
};

const DOT_EDGES: { [style: number]: string } = {
  [EdgeStyle.ROUTE]: '',
  [EdgeStyle.MIRROR]: ', style=dashed',
  [EdgeStyle.ALLOW]: ', style=dotted, color="#2e8b57", fontcolor="#2e8b57"',
};

/** @internal Graphviz DOT, with the same nodes and edges as the Mermaid rendering. */
export function toDot(graph: Graph): string {
  const lines = [
    'digraph mesh {',
    '  rankdir=LR;',
    '  node [fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", fontsize=10];',
  ];
  for (const [cluster, members] of clusters(graph)) {
    const indent = cluster ? '    ' : '  ';
    if (cluster) lines.push(`  subgraph ${dotText(`cluster_${clusterId(cluster)}`)} {`, `    label=${dotText(graph.titles[cluster])};`);
    for (const n of members) lines.push(`${indent}${dotText(n.id)} [label=${dotText(...n.lines)}, ${DOT_SHAPES[n.shape]}];`);
    if (cluster) lines.push('  }');
  }
  for (const e of graph.edges) {
    lines.push(`  ${dotText(e.from)} -> ${dotText(e.to)} [label=${dotText(e.label)}${DOT_EDGES[e.style]}];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
