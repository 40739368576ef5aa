// What the cdk8s-istio commands share (analyze, graph, plan): where they write, how they read their arguments and
// manifests, and their exit status. Not part of the jsii API: the bin dispatches to each area's cli module.
import * as fs from 'fs';
import * as path from 'path';
import { loadAll } from 'js-yaml';

/** Where a command writes: standard output and standard error, replaceable in tests. */
export interface CommandStreams {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** The process's own streams. */
export const STDIO: CommandStreams = {
  out: text => process.stdout.write(text),
  err: text => process.stderr.write(text),
};

/** A mistake in the command line: the command prints it with a pointer to its help and exits 2. */
export class UsageError extends Error {}

/** Input the command cannot read (a missing file, invalid YAML): the command prints it and exits 2. */
export class InputError extends Error {}

/** The operands' help text, shared by the commands' usages. */
export const FILE_OPERANDS = 'FILE may be a YAML or JSON file, a directory (its .yaml, .yml and .json files, recursively, leaving out\n'
  + 'node_modules and hidden directories) or - for standard input.';

/** The options a command takes. */
export interface OptionSpec {
  /** Options that take a value (`--name value` or `--name=value`). */
  readonly valued: string[];
  /** Valued options that may be given more than once; any other given twice is a usage error. */
  readonly repeatable?: string[];
  /** Options without a value. */
  readonly switches?: string[];
  /** Short forms of options (`-o` for `--output`). */
  readonly aliases?: { [short: string]: string };
}

/** A parsed command line. */
export interface ParsedArgs {
  /** The operands: files, directories, `-` for standard input. */
  readonly files: string[];
  /** The values of each valued option given, in order. */
  readonly values: Map<string, string[]>;
  /** The switches given. */
  readonly switches: Set<string>;
  /** Whether `-h` or `--help` was given. */
  readonly help: boolean;
}

/** Parses `args` against `spec`; unknown options, missing values and repeats throw a UsageError. */
export function parseArgs(args: string[], spec: OptionSpec): ParsedArgs {
  const files: string[] = [];
  const values = new Map<string, string[]>();
  const switches = new Set<string>();
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const raw = args[i];
    if (raw === '-h' || raw === '--help') {
      help = true;
      continue;
    }
    if (raw === '-' || !raw.startsWith('-')) {
      files.push(raw);
      continue;
    }
    const eq = raw.indexOf('=');
    const given = eq > 0 ? raw.slice(0, eq) : raw;
    const name = spec.aliases?.[given] ?? given;
    if (spec.switches?.includes(name)) {
      switches.add(name);
      continue;
    }
    if (!spec.valued.includes(name)) throw new UsageError(`unknown option ${given}`);
    const value = eq > 0 ? raw.slice(eq + 1) : args[++i];
    if (value === undefined) throw new UsageError(`${given} needs a value`);
    if (values.has(name) && !spec.repeatable?.includes(name)) throw new UsageError(`${name} given twice`);
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  return { files, values, switches, help };
}

/** The manifest files under `target`: the file itself, or a directory's YAML and JSON files, recursively and sorted. */
function manifestFiles(target: string): string[] {
  if (!fs.statSync(target).isDirectory()) return [target];
  return fs.readdirSync(target).sort().flatMap(name => {
    const full = path.join(target, name);
    if (fs.statSync(full).isDirectory()) return name === 'node_modules' || name.startsWith('.') ? [] : manifestFiles(full);
    return /\.(ya?ml|json)$/.test(name) ? [full] : [];
  });
}

/**
 * The objects of the manifests the operands name (files, directories, `-` for standard input), in order. A document
 * that is an array (a JSON array of manifests) gives its elements; Lists are left to the reader of the objects.
 */
export function readManifests(targets: string[], stdin: () => string): any[] {
  if (!targets.length) throw new UsageError('give at least one FILE, directory or - for standard input');
  const out: any[] = [];
  for (const target of targets) {
    if (target !== '-' && !fs.existsSync(target)) throw new InputError(`${target}: no such file or directory`);
    for (const file of target === '-' ? ['-'] : manifestFiles(target)) {
      const text = file === '-' ? stdin() : fs.readFileSync(file, 'utf8');
      const json = file.endsWith('.json');
      try {
        const docs = json ? [JSON.parse(text)] : loadAll(text);
        for (const d of docs) out.push(...(Array.isArray(d) ? d : [d]));
      } catch (e) {
        throw new InputError(`${file === '-' ? 'standard input' : file}: not valid ${json ? 'JSON' : 'YAML'} (${(e as Error).message.split('\n')[0]})`);
      }
    }
  }
  return out.filter(d => d !== null && d !== undefined);
}

/**
 * Runs a command's body and turns its usage and input errors into messages and exit status 2, the same for every
 * command (the body returns 0, or 1 for what the command reports as failing, such as findings).
 */
export function runCommand(name: string, streams: CommandStreams, body: () => number): number {
  try {
    return body();
  } catch (e) {
    if (e instanceof UsageError) {
      streams.err(`cdk8s-istio ${name}: ${e.message}\nRun cdk8s-istio ${name} --help for usage.\n`);
      return 2;
    }
    if (e instanceof InputError) {
      streams.err(`cdk8s-istio ${name}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

/** Reads standard input whole. */
export function readStdin(): string {
  return fs.readFileSync(0, 'utf8');
}
