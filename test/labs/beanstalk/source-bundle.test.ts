import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BEANSTALK_LAB, SOURCE_BUNDLE_DIR } from '../../../labs/beanstalk/constants';
import {
  cronProblems,
  ebextensionsOptions,
  ignoredEbextensionsFiles,
  isKnownNamespace,
  optionSettingsOf,
  parseCronYaml,
  platformHooks,
  procfileProblems,
} from './source-bundle-checks';

const read = (file: string) => readFileSync(path.join(SOURCE_BUNDLE_DIR, file), 'utf8');

describe('.ebextensions', () => {
  const options = ebextensionsOptions(SOURCE_BUNDLE_DIR);

  test('holds only .config files, which are all Elastic Beanstalk reads there; another file is flagged', () => {
    expect(ignoredEbextensionsFiles(SOURCE_BUNDLE_DIR)).toEqual([]);
    const bundle = mkdtempSync(path.join(tmpdir(), 'bundle-'));
    mkdirSync(path.join(bundle, '.ebextensions'));
    for (const name of ['01-env.config', '02-health.yaml']) writeFileSync(path.join(bundle, '.ebextensions', name), 'option_settings: {}\n');
    expect(ignoredEbextensionsFiles(bundle)).toEqual(['.ebextensions/02-health.yaml is ignored: only *.config files are read']);
  });

  test('every option is in a namespace Elastic Beanstalk knows', () => {
    expect(options.length).toBeGreaterThan(0);
    expect(options.filter((o) => !isKnownNamespace(o.namespace)).map((o) => `${o.file}: ${o.namespace}`)).toEqual([]);
  });

  test('sets the precedence option at the lowest configured level, to the value the exercise expects there', () => {
    const { namespace, optionName, ebextensions } = BEANSTALK_LAB.precedence;
    expect(options.filter((o) => o.namespace === namespace && o.optionName === optionName).map((o) => o.value)).toEqual([ebextensions]);
  });

  test('a misspelt namespace is caught, in both syntaxes; named namespaces (processes, listener ports) are accepted', () => {
    const shorthand = optionSettingsOf('x.config', 'option_settings:\n  aws:elasticbeanstalk:aplication:environment:\n    A: b\n');
    const standard = optionSettingsOf('y.config', 'option_settings:\n  - namespace: aws:ec2:instance\n    option_name: InstanceTypes\n    value: t4g.micro\n');
    const defaulted = optionSettingsOf('z.config', 'option_settings:\n  - option_name: A\n    value: b\n');
    expect([...shorthand, ...standard].map((o) => isKnownNamespace(o.namespace))).toEqual([false, false]);
    expect(defaulted.map((o) => o.namespace)).toEqual(['aws:elasticbeanstalk:application:environment']);
    expect(['aws:elasticbeanstalk:environment:process:api', 'aws:elbv2:listener:443'].every(isKnownNamespace)).toBe(true);
    expect(isKnownNamespace('aws:elbv2:listener:https')).toBe(false);
  });
});

describe('cron.yaml', () => {
  test('declares version 1 and jobs with local URLs and valid schedules', () => {
    const { jobs, problems } = parseCronYaml(read('cron.yaml'));
    expect(problems).toEqual([]);
    expect(jobs.map((j) => j.schedule)).toEqual(['0 * * * *', '30 2 * * *']);
  });

  test('a schedule is checked field by field, at the edges of each range', () => {
    expect(cronProblems('59 23 31 12 7')).toEqual([]);
    expect(cronProblems('0 0 1 1 0')).toEqual([]);
    expect(cronProblems('*/15 9-17 * JAN-MAR MON-FRI')).toEqual([]);
    expect(cronProblems('60 * * * *')).toEqual(['minute "60" is outside 0-59']);
    expect(cronProblems('* 24 * * *')).toEqual(['hour "24" is outside 0-23']);
    expect(cronProblems('* * 0 * *')).toEqual(['day of month "0" is outside 1-31']);
    expect(cronProblems('* * * 13 *')).toEqual(['month "13" is outside 1-12']);
    expect(cronProblems('* * * * 8')).toEqual(['day of week "8" is outside 0-7']);
    expect(cronProblems('*/0 * * * *')).toEqual(['minute "*/0": bad step']);
    expect(cronProblems('5-1 * * * *')).toEqual(['minute "5-1" is a range running backwards']);
    expect(cronProblems('* * * *')).toEqual(['"* * * *" has 4 fields, a cron expression has 5']);
  });

  test('a file with another version, a remote URL or a bad schedule lists every problem', () => {
    const { problems } = parseCronYaml('version: 2\ncron:\n  - name: a\n    url: "http://x/"\n    schedule: "61 * * * *"\n  - name: a\n    url: /b\n    schedule: "* * * * *"\n');
    expect(problems).toEqual([
      'version must be 1, got 2',
      'job a: url must be a local path starting with /, got "http://x/"',
      'job a: minute "61" is outside 0-59',
      'job names must be unique',
    ]);
  });
});

describe('Procfile', () => {
  test('runs the web process', () => {
    expect(procfileProblems(read('Procfile'))).toEqual([]);
    expect(read('Procfile')).toBe('web: node server.js\n');
  });

  test('a line without a command, a duplicate name or no web process is refused', () => {
    expect(procfileProblems('web node server.js\n')).toEqual(['"web node server.js" is not "name: command"', 'no web process: the proxy forwards requests to the process named web']);
    expect(procfileProblems('web: a\nweb: b\n')).toEqual(['process names must be unique']);
    expect(procfileProblems('worker: node worker.js\n')).toEqual(['no web process: the proxy forwards requests to the process named web']);
  });
});

describe('.platform hooks', () => {
  const { hooks, problems } = platformHooks(SOURCE_BUNDLE_DIR);

  test('each hook is an executable bash script that parses (bash -n), in a stage folder', () => {
    expect(hooks).toEqual(['.platform/hooks/prebuild/01-record-platform.sh']);
    expect(problems).toEqual([]);
    for (const hook of hooks) {
      const file = path.join(SOURCE_BUNDLE_DIR, hook);
      expect(readFileSync(file, 'utf8').startsWith('#!/bin/bash\n')).toBe(true);
      // The platform runs hooks as programs: without the executable bit the deployment fails.
      expect(statSync(file).mode & 0o111).toBe(0o111);
      expect(spawnSync('bash', ['-n', file], { encoding: 'utf8' })).toMatchObject({ status: 0, stderr: '' });
    }
  });

  test('run with stubbed node, npm and uname, the prebuild hook only prints what the platform provides', () => {
    const stubs = mkdtempSync(path.join(tmpdir(), 'hook-stubs-'));
    for (const [command, output] of [['node', 'v22.0.0'], ['npm', '10.0.0'], ['uname', 'aarch64']]) {
      writeFileSync(path.join(stubs, command), `#!/bin/bash\necho ${output}\n`, { mode: 0o755 });
    }
    const run = spawnSync('/bin/bash', [path.join(SOURCE_BUNDLE_DIR, hooks[0])], { encoding: 'utf8', env: { PATH: `${stubs}:/usr/bin:/bin` } });
    expect(run).toMatchObject({ status: 0, stdout: 'prebuild hook: node v22.0.0, npm 10.0.0, on aarch64\n', stderr: '' });
  });

  test('a hook in a misspelt stage folder or directly under hooks/ is flagged, not silently dropped', () => {
    const bundle = mkdtempSync(path.join(tmpdir(), 'bundle-'));
    for (const dir of ['hooks/prebuild', 'hooks/pre-deploy', 'confighooks/postdeploy']) mkdirSync(path.join(bundle, '.platform', dir), { recursive: true });
    for (const file of ['hooks/prebuild/ok.sh', 'hooks/pre-deploy/lost.sh', 'hooks/loose.sh', 'confighooks/postdeploy/ok.sh']) writeFileSync(path.join(bundle, '.platform', file), '#!/bin/bash\n');
    expect(platformHooks(bundle)).toEqual({
      hooks: ['.platform/confighooks/postdeploy/ok.sh', '.platform/hooks/prebuild/ok.sh'],
      problems: [
        '.platform/hooks/loose.sh is never run: hooks go in prebuild/, predeploy/ or postdeploy/',
        '.platform/hooks/pre-deploy/lost.sh is never run: hooks go in prebuild/, predeploy/ or postdeploy/',
      ],
    });
  });

  test('bash -n fails on a script that does not parse', () => {
    const broken = path.join(mkdtempSync(path.join(tmpdir(), 'hook-')), 'broken.sh');
    writeFileSync(broken, '#!/bin/bash\nif true; then echo x\n');
    expect(spawnSync('bash', ['-n', broken], { encoding: 'utf8' }).status).not.toBe(0);
  });
});
