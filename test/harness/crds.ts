// The custom resource kinds a cluster with the pinned CRDs installed serves: every served version of every CRD in
// every pinned file, not only the versions the library emits, so a manifest at any served version is checked.
import * as fs from 'fs';
import * as yaml from 'js-yaml';
import { crdSources, crdsAvailableOffline, resolveCrdFile } from '../../scripts/crd-sources';

/** One served version of a CRD. */
export interface CrdVersion {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly namespaced: boolean;
  /** The version's `openAPIV3Schema`, as written in the CRD. */
  readonly schema: Record<string, unknown>;
  /** With the status subresource the server drops `status` from what is created. */
  readonly hasStatusSubresource: boolean;
}

export const gvkKey = (apiVersion: string, kind: string) => `${apiVersion}/${kind}`;

let loaded: Map<string, CrdVersion> | undefined;

/** Every served CRD version, by `group/version/Kind`. Reads (or downloads, once) the pinned files on first use. */
export function servedCrdVersions(): Map<string, CrdVersion> {
  if (loaded) return loaded;
  const byKey = new Map<string, CrdVersion>();
  for (const source of crdSources()) {
    // js-yaml, as `yaml` misreads the continuation lines of some upstream CRDs (Flagger's).
    for (const doc of yaml.loadAll(fs.readFileSync(resolveCrdFile(source), 'utf8')) as any[]) {
      if (doc?.kind !== 'CustomResourceDefinition') continue;
      const { group, names, scope, versions } = doc.spec;
      for (const v of versions) {
        if (!v.served) continue;
        const schema = v.schema?.openAPIV3Schema;
        if (!schema) throw new Error(`${doc.metadata.name} ${v.name}: no openAPIV3Schema; the harness needs a structural schema`);
        const key = gvkKey(`${group}/${v.name}`, names.kind);
        if (byKey.has(key)) throw new Error(`${key} is defined by two pinned CRDs (${source.file})`);
        byKey.set(key, {
          group,
          version: v.name,
          kind: names.kind,
          namespaced: scope === 'Namespaced',
          schema,
          hasStatusSubresource: v.subresources?.status !== undefined,
        });
      }
    }
  }
  loaded = byKey;
  return byKey;
}

let available: boolean | undefined;

/**
 * Whether the pinned CRDs can be read: from `../shared/crds` or the cache, else by downloading them now.
 * A local file with the wrong checksum is not "unavailable": that error is thrown when the CRDs are loaded.
 */
export function crdsLoadable(): boolean {
  if (available === undefined) {
    if (crdsAvailableOffline()) {
      available = true;
    } else {
      try {
        crdSources().forEach(s => resolveCrdFile(s));
        available = true;
      } catch {
        available = false;
      }
    }
  }
  return available;
}
