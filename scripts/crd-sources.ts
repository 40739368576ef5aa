// Locates the pinned CRD files declared in imports/sources.json: from a local directory when one is given or
// found beside the repository, else from a gitignored cache filled from each source's upstream address.
// Every file is checked against its pinned sha256, wherever it came from.
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

export interface CrdSource {
  readonly module: string;
  readonly release: string;
  readonly file: string;
  readonly url: string;
  readonly sha256: string;
  /** `group/Kind` -> the API version the library emits. */
  readonly versions: Record<string, string>;
}

export const REPO_ROOT = path.resolve(__dirname, '..');
const CACHE_DIR = path.join(REPO_ROOT, '.crd-cache');
/** Where CI and developers keep the pinned copies (outside the repository). */
const SHARED_DIR = path.resolve(REPO_ROOT, '..', 'shared', 'crds');

export function crdSources(): CrdSource[] {
  const raw = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'imports', 'sources.json'), 'utf8'));
  return raw.sources;
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function verified(file: string, source: CrdSource): string {
  const actual = sha256(file);
  if (actual !== source.sha256) {
    throw new Error(`${file}: sha256 ${actual} does not match the pinned ${source.sha256} of ${source.release}; ` +
      'use the pinned release file or update imports/sources.json deliberately');
  }
  return file;
}

/** The local directory to read from: an explicit one, `CDK8S_ISTIO_CRDS_DIR`, or `../shared/crds` when present. */
export function localCrdDir(explicit?: string): string | undefined {
  const dir = explicit ?? process.env.CDK8S_ISTIO_CRDS_DIR;
  if (dir) return path.resolve(dir);
  return fs.existsSync(SHARED_DIR) ? SHARED_DIR : undefined;
}

/**
 * The path of a source's pinned file. Reads a local directory when there is one, otherwise downloads the
 * upstream address once into `.crd-cache/` (needs `curl` and the internet). Throws with the reason when neither works.
 */
export function resolveCrdFile(source: CrdSource, dir?: string): string {
  const local = localCrdDir(dir);
  if (local) {
    const file = path.join(local, source.file);
    if (!fs.existsSync(file)) throw new Error(`${file} not found: ${local} must hold ${source.file} (${source.release})`);
    return verified(file, source);
  }
  const cached = path.join(CACHE_DIR, source.file);
  if (!fs.existsSync(cached)) {
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    const tmp = `${cached}.download`;
    execFileSync('curl', ['-fsSL', '--max-time', '60', '-o', tmp, source.url], { stdio: 'inherit' });
    fs.renameSync(tmp, cached);
  }
  return verified(cached, source);
}

/** True when every pinned file can be read without a network. */
export function crdsAvailableOffline(dir?: string): boolean {
  if (localCrdDir(dir)) return true;
  return crdSources().every(s => fs.existsSync(path.join(CACHE_DIR, s.file)));
}
