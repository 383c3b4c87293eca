/**
 * The sample revision (`revision/`): its AppSpec file checked offline against what CodeDeploy accepts for the
 * EC2/On-Premises platform, and the bundle `aws deploy push` would upload, zipped in memory. Imports no CDK.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { load as parseYaml } from 'js-yaml';

export const REVISION_DIR = path.join(__dirname, 'revision');

/**
 * Every lifecycle event of an EC2/On-Premises deployment, in the order CodeDeploy runs them (AppSpec "hooks" reference):
 * with a load balancer, traffic is blocked first and allowed last. Without one, the traffic events are skipped; in a
 * blue/green deployment the original instances run only the three block events, the replacements the others.
 */
export const EC2_LIFECYCLE_ORDER = [
  'BeforeBlockTraffic', 'BlockTraffic', 'AfterBlockTraffic',
  'ApplicationStop', 'DownloadBundle', 'BeforeInstall', 'Install', 'AfterInstall', 'ApplicationStart', 'ValidateService',
  'BeforeAllowTraffic', 'AllowTraffic', 'AfterAllowTraffic',
] as const;
/** Events the agent runs itself: a `hooks` entry for them is refused. `Start` and `End` are never scripted either. */
export const UNSCRIPTABLE_EVENTS = ['Start', 'DownloadBundle', 'Install', 'BlockTraffic', 'AllowTraffic', 'End'];
/** The events an AppSpec file may attach scripts to on EC2/On-Premises, in-place and blue/green alike. */
export const EC2_HOOKS = EC2_LIFECYCLE_ORDER.filter((event) => !UNSCRIPTABLE_EVENTS.includes(event));

/** What the agent allows: the scripts of one lifecycle event share one timeout of at most an hour. */
export const APPSPEC_LIMITS = { maxEventTimeoutSeconds: 3600 } as const;

const PERMISSION_KEYS = ['object', 'pattern', 'except', 'owner', 'group', 'mode', 'acls', 'context', 'type'];
const SCRIPT_KEYS = ['location', 'timeout', 'runas'];

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const unknownKeys = (value: Record<string, unknown>, known: readonly string[]) => Object.keys(value).filter((key) => !known.includes(key));

/**
 * The problems of an EC2/On-Premises AppSpec file, all at once ([] when none): version 0.0, an os, `files` with a
 * source present in the bundle and an absolute destination, `permissions` in the documented syntax, and hooks CodeDeploy runs, each script
 * present in the bundle (`bundleFiles`, paths relative to its root) with the event's timeout within an hour.
 */
export function checkAppSpec(text: string, bundleFiles: readonly string[]): string[] {
  const problems: string[] = [];
  let spec: unknown;
  try {
    spec = parseYaml(text);
  } catch (error) {
    return [`not YAML: ${(error as Error).message.split('\n')[0]}`];
  }
  if (!isRecord(spec)) return ['the AppSpec file is not a mapping'];
  // YAML reads 0.0 as the number 0.
  if (spec.version !== 0 && spec.version !== '0.0') problems.push(`version must be 0.0, got ${JSON.stringify(spec.version)}`);
  if (spec.os !== 'linux' && spec.os !== 'windows') problems.push(`os must be linux or windows, got ${JSON.stringify(spec.os)}`);

  for (const [index, file] of ((spec.files as unknown[] | undefined) ?? []).entries()) {
    if (!isRecord(file) || typeof file.source !== 'string' || typeof file.destination !== 'string') {
      problems.push(`files[${index}] needs a source and a destination`);
    } else {
      if (!file.destination.startsWith('/')) problems.push(`files[${index}].destination must be an absolute path, got ${file.destination}`);
      // A file or a folder of the bundle, from its root; '/' is the whole bundle.
      const source = file.source.replace(/^\/+|\/+$/g, '');
      if (source !== '' && !bundleFiles.some((f) => f === source || f.startsWith(`${source}/`))) {
        problems.push(`files[${index}].source ${file.source} is neither a file nor a folder of the bundle`);
      }
    }
  }

  for (const [index, permission] of ((spec.permissions as unknown[] | undefined) ?? []).entries()) {
    const where = `permissions[${index}]`;
    if (!isRecord(permission)) {
      problems.push(`${where} is not a mapping`);
      continue;
    }
    for (const key of unknownKeys(permission, PERMISSION_KEYS)) problems.push(`${where} has an unknown key ${key}`);
    if (typeof permission.object !== 'string' || !permission.object.startsWith('/')) problems.push(`${where}.object must be an absolute path`);
    if (permission.mode !== undefined && !/^[0-7]{3,4}$/.test(String(permission.mode))) {
      problems.push(`${where}.mode must be 3 or 4 octal digits (e.g. 644), got ${JSON.stringify(permission.mode)}`);
    }
    const types = permission.type;
    if (types !== undefined && (!Array.isArray(types) || types.some((t) => t !== 'file' && t !== 'directory'))) {
      problems.push(`${where}.type must be a list of file and/or directory, got ${JSON.stringify(types)}`);
    }
    for (const key of ['owner', 'group', 'pattern']) {
      if (permission[key] !== undefined && typeof permission[key] !== 'string') problems.push(`${where}.${key} must be a string`);
    }
  }

  const hooks = spec.hooks ?? {};
  if (!isRecord(hooks)) return [...problems, 'hooks must be a mapping of lifecycle events to scripts'];
  for (const [event, scripts] of Object.entries(hooks)) {
    if (UNSCRIPTABLE_EVENTS.includes(event)) {
      problems.push(`hooks.${event}: CodeDeploy runs this event itself; it takes no scripts`);
      continue;
    }
    if (!(EC2_HOOKS as readonly string[]).includes(event)) {
      problems.push(`hooks.${event} is not a lifecycle event of EC2/On-Premises deployments (${EC2_HOOKS.join(', ')})`);
      continue;
    }
    if (!Array.isArray(scripts) || scripts.length === 0) {
      problems.push(`hooks.${event} must list at least one script`);
      continue;
    }
    let eventTimeout = 0;
    for (const [index, script] of scripts.entries()) {
      const where = `hooks.${event}[${index}]`;
      if (!isRecord(script) || typeof script.location !== 'string') {
        problems.push(`${where} needs a location`);
        continue;
      }
      for (const key of unknownKeys(script, SCRIPT_KEYS)) problems.push(`${where} has an unknown key ${key}`);
      if (!bundleFiles.includes(script.location)) problems.push(`${where}.location ${script.location} is not in the bundle`);
      if (script.timeout !== undefined && !(Number.isInteger(script.timeout) && Number(script.timeout) > 0)) {
        problems.push(`${where}.timeout must be a whole number of seconds above 0, got ${JSON.stringify(script.timeout)}`);
      }
      eventTimeout += Number(script.timeout ?? 0);
    }
    if (eventTimeout > APPSPEC_LIMITS.maxEventTimeoutSeconds) {
      problems.push(`hooks.${event}: the scripts' timeouts add up to ${eventTimeout} s, above the ${APPSPEC_LIMITS.maxEventTimeoutSeconds} s an event may take`);
    }
  }
  return problems;
}

/** A file of the bundle: its path from the bundle's root, its bytes and its Unix mode (0o755 or 0o644). */
export interface BundleFile {
  readonly path: string;
  readonly content: Buffer;
  readonly mode: number;
}

/** The files under `dir`, paths relative to it with `/`, in a stable order. */
export function readBundle(dir = REVISION_DIR): BundleFile[] {
  const walk = (relative: string): BundleFile[] =>
    readdirSync(path.join(dir, relative), { withFileTypes: true })
      .sort((a, b) => a.name.localeCompare(b.name))
      .flatMap((entry) => {
        const child = relative ? `${relative}/${entry.name}` : entry.name;
        if (entry.isDirectory()) return walk(child);
        const full = path.join(dir, child);
        // Executable or not, whatever the umask of the checkout: the same files give the same archive.
        return [{ path: child, content: readFileSync(full), mode: statSync(full).mode & 0o111 ? 0o755 : 0o644 }];
      });
  return walk('');
}

/**
 * A zip archive of the files (deflated, Unix modes kept so the hook scripts stay executable), as `aws deploy push`
 * uploads: the AppSpec file at the root. Timestamps are fixed, so the same files give the same bytes and ETag.
 */
export function zipBundle(files: readonly BundleFile[]): Buffer {
  const DOS_DATE_1980_01_01 = (1 << 5) | 1;
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const file of files) {
    const name = Buffer.from(file.path, 'utf8');
    const data = deflateRawSync(file.content);
    const crc = crc32(file.content);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    local.writeUInt16LE(0x0800, 6); // names are UTF-8
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(DOS_DATE_1980_01_01, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(file.content.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the external attributes carry the mode
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(DOS_DATE_1980_01_01, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(file.content.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((0o100000 | file.mode) << 16) >>> 0, 38); // regular file with its permission bits
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
