// What the cdk8s-istio commands share (analyze, graph, plan): where they write and how they read their arguments.
// Not part of the jsii API: the bin dispatches to each area's cli module.

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

/** A mistake in the command line: the command prints it with its usage and exits 2. */
export class UsageError extends Error {}

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
