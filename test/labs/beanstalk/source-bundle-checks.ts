/**
 * Offline checks of an Elastic Beanstalk source bundle: what the platform would refuse or ignore at deploy time,
 * found before anything is uploaded.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';

/**
 * The option namespaces of "General options for all environments" and the Node.js platform's options
 * (docs.aws.amazon.com/elasticbeanstalk/latest/dg/command-options-general.html, command-options-specific.html).
 */
export const KNOWN_NAMESPACES: readonly string[] = [
  'aws:autoscaling:asg',
  'aws:autoscaling:launchconfiguration',
  'aws:autoscaling:scheduledaction',
  'aws:autoscaling:trigger',
  'aws:autoscaling:updatepolicy:rollingupdate',
  'aws:ec2:instances',
  'aws:ec2:vpc',
  'aws:elasticbeanstalk:application',
  'aws:elasticbeanstalk:application:environment',
  'aws:elasticbeanstalk:application:environmentsecrets',
  'aws:elasticbeanstalk:cloudwatch:logs',
  'aws:elasticbeanstalk:cloudwatch:logs:health',
  'aws:elasticbeanstalk:command',
  'aws:elasticbeanstalk:environment',
  'aws:elasticbeanstalk:environment:process:default',
  'aws:elasticbeanstalk:environment:proxy',
  'aws:elasticbeanstalk:environment:proxy:staticfiles',
  'aws:elasticbeanstalk:healthreporting:system',
  'aws:elasticbeanstalk:hostmanager',
  'aws:elasticbeanstalk:managedactions',
  'aws:elasticbeanstalk:managedactions:platformupdate',
  'aws:elasticbeanstalk:monitoring',
  'aws:elasticbeanstalk:sns:topics',
  'aws:elasticbeanstalk:sqsd',
  'aws:elasticbeanstalk:trafficsplitting',
  'aws:elasticbeanstalk:xray',
  'aws:elb:healthcheck',
  'aws:elb:loadbalancer',
  'aws:elb:listener',
  'aws:elb:policies',
  'aws:elbv2:listener:default',
  'aws:elbv2:loadbalancer',
  'aws:rds:dbinstance',
];
/** Namespaces whose last part is a name the user chooses: a process, a listener port, a policy, a listener rule. */
const NAMED_NAMESPACES = [
  /^aws:elasticbeanstalk:environment:process:[A-Za-z0-9_-]+$/,
  /^aws:elb:listener:\d+$/,
  /^aws:elb:policies:[A-Za-z0-9_-]+$/,
  /^aws:elbv2:listener:\d+$/,
  /^aws:elbv2:listenerrule:[A-Za-z0-9_-]+$/,
];

export const isKnownNamespace = (namespace: string) => KNOWN_NAMESPACES.includes(namespace) || NAMED_NAMESPACES.some((p) => p.test(namespace));

export interface ConfigOption {
  readonly file: string;
  readonly namespace: string;
  readonly optionName: string;
  readonly value: unknown;
}

/**
 * The `option_settings` of one `.ebextensions/*.config` (YAML or JSON), in either syntax: the list of
 * `{ namespace, option_name, value }` (namespace defaulting to application:environment) or the shorthand map
 * `namespace: { option: value }`.
 */
export function optionSettingsOf(file: string, text: string): ConfigOption[] {
  const parsed = yaml.load(text) as { option_settings?: unknown } | undefined;
  const settings = parsed?.option_settings;
  if (settings === undefined) return [];
  if (Array.isArray(settings)) {
    return settings.map((s: { namespace?: string; option_name?: string; value?: unknown }) => ({
      file,
      namespace: s.namespace ?? 'aws:elasticbeanstalk:application:environment',
      optionName: String(s.option_name),
      value: s.value,
    }));
  }
  return Object.entries(settings as Record<string, Record<string, unknown>>).flatMap(([namespace, options]) =>
    Object.entries(options ?? {}).map(([optionName, value]) => ({ file, namespace, optionName, value })),
  );
}

/** Files in `.ebextensions` that Elastic Beanstalk ignores: it reads only `*.config` files there. */
export function ignoredEbextensionsFiles(bundleDir: string): string[] {
  return readdirSync(path.join(bundleDir, '.ebextensions'))
    .filter((name) => !name.endsWith('.config'))
    .map((name) => `.ebextensions/${name} is ignored: only *.config files are read`);
}

/** Every option set by the bundle's `.ebextensions/*.config` files, in the order Elastic Beanstalk reads them (by name). */
export function ebextensionsOptions(bundleDir: string): ConfigOption[] {
  const dir = path.join(bundleDir, '.ebextensions');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.config'))
    .sort()
    .flatMap((name) => optionSettingsOf(name, readFileSync(path.join(dir, name), 'utf8')));
}

const CRON_FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { name: 'day of week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

/** What is wrong with a five-field cron expression (UTC, as the worker's daemon reads `cron.yaml`); [] when nothing. */
export function cronProblems(expression: string): string[] {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== CRON_FIELDS.length) return [`"${expression}" has ${fields.length} fields, a cron expression has 5`];
  return fields.flatMap((field, index) => {
    const spec = CRON_FIELDS[index];
    const valueOf = (text: string) => {
      const named = spec.names?.indexOf(text.toUpperCase()) ?? -1;
      if (named >= 0) return named + (spec.name === 'month' ? 1 : 0);
      return /^\d+$/.test(text) ? Number(text) : NaN;
    };
    const inRange = (n: number) => Number.isInteger(n) && n >= spec.min && n <= spec.max;
    return field.split(',').flatMap((part) => {
      const [range, step, ...extra] = part.split('/');
      if (extra.length > 0 || (step !== undefined && !(/^\d+$/.test(step) && Number(step) > 0))) return [`${spec.name} "${part}": bad step`];
      if (range === '*') return [];
      const bounds = range.split('-');
      if (bounds.length > 2 || !bounds.every((b) => inRange(valueOf(b)))) return [`${spec.name} "${part}" is outside ${spec.min}-${spec.max}`];
      if (bounds.length === 2 && valueOf(bounds[0]) > valueOf(bounds[1])) return [`${spec.name} "${part}" is a range running backwards`];
      return [];
    });
  });
}

export interface CronJob {
  readonly name: string;
  readonly url: string;
  readonly schedule: string;
}

/** The jobs of a worker's `cron.yaml`, and what is wrong with the file (version 1, a name, url and schedule each). */
export function parseCronYaml(text: string): { jobs: CronJob[]; problems: string[] } {
  const parsed = yaml.load(text) as { version?: unknown; cron?: Partial<CronJob>[] } | undefined;
  const problems: string[] = [];
  if (parsed?.version !== 1) problems.push(`version must be 1, got ${JSON.stringify(parsed?.version)}`);
  const jobs = (parsed?.cron ?? []).map((job) => ({ name: String(job.name ?? ''), url: String(job.url ?? ''), schedule: String(job.schedule ?? '') }));
  if (jobs.length === 0) problems.push('cron lists no job');
  for (const job of jobs) {
    if (!job.name) problems.push('a job has no name');
    if (!job.url.startsWith('/')) problems.push(`job ${job.name}: url must be a local path starting with /, got "${job.url}"`);
    problems.push(...cronProblems(job.schedule).map((p) => `job ${job.name}: ${p}`));
  }
  const names = jobs.map((j) => j.name);
  if (new Set(names).size !== names.length) problems.push('job names must be unique');
  return { jobs, problems };
}

/** What is wrong with a Procfile: each line `name: command`, names unique, and a `web` process the proxy forwards to. */
export function procfileProblems(text: string): string[] {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const problems = lines.filter((line) => !/^[A-Za-z0-9_]+:\s*\S/.test(line)).map((line) => `"${line}" is not "name: command"`);
  const names = lines.map((line) => line.split(':')[0]);
  if (new Set(names).size !== names.length) problems.push('process names must be unique');
  if (!names.includes('web')) problems.push('no web process: the proxy forwards requests to the process named web');
  return problems;
}

/**
 * Every script under `.platform/hooks/` and `.platform/confighooks/`, relative to the bundle, and a problem for each
 * file there outside the three stage folders (`prebuild`, `predeploy`, `postdeploy`), which the platform never runs.
 */
export function platformHooks(bundleDir: string): { hooks: string[]; problems: string[] } {
  const walk = (dir: string): string[] =>
    readdirSync(path.join(bundleDir, dir), { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? walk(path.join(dir, entry.name)) : [path.join(dir, entry.name)],
    );
  const files = walk('.platform').filter((file) => /^\.platform\/(hooks|confighooks)\//.test(file));
  const inStage = (file: string) => /^\.platform\/(hooks|confighooks)\/(prebuild|predeploy|postdeploy)\/[^/]+$/.test(file);
  return {
    hooks: files.filter(inStage),
    problems: files.filter((file) => !inStage(file)).map((file) => `${file} is never run: hooks go in prebuild/, predeploy/ or postdeploy/`),
  };
}
