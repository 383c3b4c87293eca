import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';
import { CODEDEPLOY_EC2_LAB } from '../../../labs/codedeploy-ec2/constants';
import { checkAppSpec, EC2_HOOKS, readBundle, REVISION_DIR, zipBundle } from '../../../labs/codedeploy-ec2/revision';

const bundle = readBundle();
const paths = bundle.map((f) => f.path);
const appSpec = readFileSync(path.join(REVISION_DIR, 'appspec.yml'), 'utf8');
const scripts = paths.filter((p) => p.startsWith('scripts/'));

describe('appspec.yml', () => {
  test('passes every check, and attaches a script to every hook CodeDeploy runs on EC2', () => {
    expect(checkAppSpec(appSpec, paths)).toEqual([]);
    for (const hook of EC2_HOOKS) expect(appSpec).toMatch(new RegExp(`^  ${hook}:`, 'm'));
  });

  test.each<[string, (text: string) => string, string]>([
    ['a version other than 0.0', (t) => t.replace('version: 0.0', 'version: 1.0'), 'version must be 0.0, got 1'],
    ['an unknown os', (t) => t.replace('os: linux', 'os: macos'), 'os must be linux or windows, got "macos"'],
    ['a source file missing from the bundle', (t) => t.replace('source: config/sample-app.service', 'source: config/missing.service'), 'files[1].source config/missing.service is neither a file nor a folder of the bundle'],
    ['a source folder missing from the bundle', (t) => t.replace('source: app/www', 'source: app/web'), 'files[0].source app/web is neither a file nor a folder of the bundle'],
    ['a source that only starts like a folder', (t) => t.replace('source: app/www', 'source: app/ww'), 'files[0].source app/ww is neither a file nor a folder of the bundle'],
    ['a relative destination', (t) => t.replace('destination: /opt/sample-app/www', 'destination: opt/www'), 'files[0].destination must be an absolute path, got opt/www'],
    ['a mode that is not octal', (t) => t.replace('mode: 644', 'mode: 689'), 'permissions[0].mode must be 3 or 4 octal digits (e.g. 644), got 689'],
    ['a permission type other than file or directory', (t) => t.replace('- file', '- link'), 'permissions[0].type must be a list of file and/or directory, got ["link"]'],
    ['an unknown permission key', (t) => t.replace('    owner: root\n', '    owners: root\n'), 'permissions[0] has an unknown key owners'],
    ['a relative permission object', (t) => t.replace('- object: /opt/sample-app', '- object: sample-app'), 'permissions[0].object must be an absolute path'],
    ['a hook the agent runs itself', (t) => t.replace('  BeforeInstall:', '  Install:'), 'hooks.Install: CodeDeploy runs this event itself; it takes no scripts'],
    ['a Lambda/ECS hook', (t) => t.replace('  BeforeInstall:', '  AfterAllowTestTraffic:'), 'hooks.AfterAllowTestTraffic is not a lifecycle event of EC2/On-Premises deployments'],
    ['a script missing from the bundle', (t) => t.replace('scripts/before_install.sh', 'scripts/missing.sh'), 'hooks.BeforeInstall[0].location scripts/missing.sh is not in the bundle'],
    ['scripts of one event above an hour', (t) => t.replace('timeout: 120', 'timeout: 3601'), 'hooks.BeforeInstall: the scripts\' timeouts add up to 3601 s, above the 3600 s an event may take'],
    ['an unknown script key', (t) => t.replace('      timeout: 30', '      runs-as: root'), 'hooks.ApplicationStart[1] has an unknown key runs-as'],
  ])('refuses %s', (_name, breakIt, problem) => {
    expect(checkAppSpec(breakIt(appSpec), paths).join('\n')).toContain(problem);
  });

  test('a source may be a folder with a trailing slash, a file, or / for the whole bundle', () => {
    const sources = appSpec.replace('source: app/www', 'source: /').replace('source: config/sample-app.service', 'source: config/');
    expect(checkAppSpec(sources, paths)).toEqual([]);
  });

  test('an event may take exactly an hour', () => {
    expect(checkAppSpec(appSpec.replace('timeout: 120', 'timeout: 3600'), paths)).toEqual([]);
  });

  test('refuses text that is not YAML', () => {
    expect(checkAppSpec('hooks: [', paths)[0]).toMatch(/^not YAML/);
  });
});

describe('hook scripts', () => {
  test('every script is executable and parses with bash -n', () => {
    expect(scripts).toHaveLength(10);
    expect(bundle.filter((f) => scripts.includes(f.path) && f.mode !== 0o755)).toEqual([]);
    // One bash checks them all; it prints the scripts that do not parse.
    const check = spawnSync('bash', ['-c', 'for s in "$@"; do bash -n "$s" 2>/dev/null || echo "$s"; done', 'check', ...scripts], { cwd: REVISION_DIR, encoding: 'utf8' });
    expect(check.stdout).toBe('');
  });

  test('bash -n would catch a script that does not parse', () => {
    expect(spawnSync('bash', ['-n', '-c', 'if true; then echo'], { encoding: 'utf8' }).status).not.toBe(0);
  });

  describe('in a sandbox where curl, systemctl, hostname and sleep are stubs', () => {
    let sandbox: string;
    let app: string;
    const stub = (name: string, body: string) => {
      writeFileSync(path.join(sandbox, 'bin', name), `#!/bin/bash\n${body}\n`);
      chmodSync(path.join(sandbox, 'bin', name), 0o755);
    };
    const callLog = () => readFileSync(path.join(sandbox, 'calls.log'), 'utf8');
    const calls = () => callLog().trim().split('\n');
    const run = (script: string, env: Record<string, string> = {}) =>
      spawnSync('bash', [path.join(REVISION_DIR, script)], {
        encoding: 'utf8',
        env: { PATH: `${path.join(sandbox, 'bin')}:/usr/bin:/bin`, SAMPLE_APP_DIR: app, CALLS: path.join(sandbox, 'calls.log'), SERVED: 'sample-1', ...env },
      });

    beforeEach(() => {
      sandbox = mkdtempSync(path.join(tmpdir(), 'codedeploy-hooks-'));
      app = path.join(sandbox, 'opt', 'sample-app');
      mkdirSync(path.join(sandbox, 'bin'));
      mkdirSync(path.join(app, 'www'), { recursive: true });
      writeFileSync(path.join(sandbox, 'calls.log'), '');
      writeFileSync(path.join(app, 'www', 'version.txt'), 'sample-1\n');
      stub('systemctl', 'echo "systemctl $*" >> "$CALLS"; [ "$1" != is-active ]');
      stub('hostname', 'echo ip-10-0-0-12');
      stub('sleep', 'echo "sleep $*" >> "$CALLS"');
      // IMDSv2 as EC2 serves it: a token for a PUT, 401 (curl -f exits 22) for a GET without it.
      stub('curl', [
        'echo "curl $*" >> "$CALLS"',
        'case "$*" in',
        '  *"-X PUT"*api/token*) echo -n TOKEN123 ;;',
        '  *localhost/version.txt*) [ -n "$SERVED" ] && echo "$SERVED" || exit 7 ;;',
        '  *"X-aws-ec2-metadata-token: TOKEN123"*) ;;',
        '  *) exit 22 ;;',
        'esac',
        'case "$*" in',
        '  *meta-data/instance-id) echo -n i-0abc1234def567890 ;;',
        '  *meta-data/placement/availability-zone) echo -n us-east-1b ;;',
        '  *meta-data/iam/security-credentials/) echo -n CodedeployEc2Lab-InstanceRole ;;',
        '  *meta-data/iam/security-credentials/CodedeployEc2Lab-InstanceRole) printf \'{\\n  "Code" : "Success",\\n  "AccessKeyId" : "ASIAEXAMPLE",\\n  "Expiration" : "2026-12-03T18:00:00Z"\\n}\\n\' ;;',
        'esac',
      ].join('\n'));
    });
    afterEach(() => rmSync(sandbox, { recursive: true, force: true }));

    test('instance_identity.sh asks for a token first, then sends it with every read, and never prints the keys', () => {
      const result = run('scripts/instance_identity.sh');
      expect(result.status).toBe(0);
      expect(result.stdout).toBe('IMDSv2: instance i-0abc1234def567890 in us-east-1b, role CodedeployEc2Lab-InstanceRole, credentials expire 2026-12-03T18:00:00Z\n');
      expect(result.stdout).not.toContain('ASIA');
      const curls = calls().filter((c) => c.startsWith('curl'));
      expect(curls[0]).toContain('-X PUT http://169.254.169.254/latest/api/token');
      expect(curls.slice(1).every((c) => c.includes('X-aws-ec2-metadata-token: TOKEN123'))).toBe(true);
      expect(JSON.parse(readFileSync(path.join(app, 'www', 'instance.json'), 'utf8'))).toEqual({
        instanceId: 'i-0abc1234def567890', availabilityZone: 'us-east-1b', role: 'CodedeployEc2Lab-InstanceRole', credentialsExpire: '2026-12-03T18:00:00Z',
      });
    });

    test('validate_service.sh passes when the app serves the installed version, printing the identity for the log', () => {
      writeFileSync(path.join(app, 'www', 'instance.json'), '{"instanceId":"i-0abc"}\n');
      const result = run('scripts/validate_service.sh');
      expect(result.status).toBe(0);
      expect(result.stdout).toBe('{"instanceId":"i-0abc"}\nValidateService: the app serves version sample-1\n');
    });

    test('validate_service.sh fails on the break marker, and when the app serves another version or nothing', () => {
      writeFileSync(path.join(app, 'www', 'instance.json'), '{}\n');
      writeFileSync(path.join(app, 'www', CODEDEPLOY_EC2_LAB.breakMarker), '');
      expect(run('scripts/validate_service.sh').stderr).toContain(`carries ${CODEDEPLOY_EC2_LAB.breakMarker}, failing on purpose`);
      rmSync(path.join(app, 'www', CODEDEPLOY_EC2_LAB.breakMarker));
      const wrong = run('scripts/validate_service.sh', { SERVED: 'sample-0' });
      expect([wrong.status, wrong.stderr]).toEqual([1, "ValidateService: expected version sample-1, the app served 'sample-0'\n"]);
      const down = run('scripts/validate_service.sh', { SERVED: '' });
      expect(down.status).toBe(1);
      expect(calls().filter((c) => c.startsWith('sleep'))).toHaveLength(5);
    });

    test('the stop, install and start hooks only call systemctl, in the order the deployment runs them', () => {
      for (const script of ['application_stop.sh', 'before_install.sh']) expect(run(`scripts/${script}`).status).toBe(0);
      // BeforeInstall cleared the old files; the agent copies the revision's before AfterInstall.
      mkdirSync(path.join(app, 'www'));
      writeFileSync(path.join(app, 'www', 'version.txt'), 'sample-2\n');
      for (const script of ['after_install.sh', 'application_start.sh']) expect(run(`scripts/${script}`).status).toBe(0);
      expect(calls()).toEqual(['systemctl is-active --quiet sample-app', 'systemctl daemon-reload', 'systemctl enable sample-app', 'systemctl restart sample-app']);
    });

    test('the traffic hooks only print', () => {
      const printed = ['before_block_traffic.sh', 'after_block_traffic.sh', 'before_allow_traffic.sh', 'after_allow_traffic.sh'].map((s) => run(`scripts/${s}`));
      expect(printed.map((r) => r.status)).toEqual([0, 0, 0, 0]);
      expect(printed.map((r) => r.stdout.split(':')[0])).toEqual(['BeforeBlockTraffic on ip-10-0-0-12', 'AfterBlockTraffic on ip-10-0-0-12', 'BeforeAllowTraffic on ip-10-0-0-12', 'AfterAllowTraffic on ip-10-0-0-12']);
      expect(callLog()).toBe('');
    });
  });
});

describe('the zipped bundle', () => {
  /** Reads the archive back from its central directory: names, Unix modes, and contents checked against their CRC. */
  function unzip(zip: Buffer) {
    const end = zip.length - 22;
    expect(zip.readUInt32LE(end)).toBe(0x06054b50);
    const entries: { name: string; mode: number; content: Buffer }[] = [];
    let at = zip.readUInt32LE(end + 16);
    for (let i = 0; i < zip.readUInt16LE(end + 10); i += 1) {
      const nameLength = zip.readUInt16LE(at + 28);
      const local = zip.readUInt32LE(at + 42);
      const size = zip.readUInt32LE(at + 20);
      const localNameLength = zip.readUInt16LE(local + 26);
      const content = inflateRawSync(zip.subarray(local + 30 + localNameLength, local + 30 + localNameLength + size));
      expect(crc32(content)).toBe(zip.readUInt32LE(at + 16));
      entries.push({ name: zip.toString('utf8', at + 46, at + 46 + nameLength), mode: zip.readUInt32LE(at + 38) >>> 16, content });
      at += 46 + nameLength;
    }
    return entries;
  }

  test('holds every file of revision/ with its mode, the AppSpec file at the root, the same bytes each time', () => {
    const zip = zipBundle(bundle);
    const entries = unzip(zip);
    expect(entries.map((e) => e.name)).toEqual(paths);
    expect(entries.find((e) => e.name === 'appspec.yml')?.content.toString('utf8')).toBe(appSpec);
    expect(entries.find((e) => e.name === 'scripts/validate_service.sh')?.mode).toBe(0o100755);
    expect(entries.find((e) => e.name === 'app/www/index.html')?.mode).toBe(0o100644);
    expect(zipBundle(bundle).equals(zip)).toBe(true);
  });

  test('passes Info-ZIP\'s own test of every entry (unzip -t), not only this file\'s reader', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'codedeploy-zip-'));
    try {
      const file = path.join(dir, 'bundle.zip');
      writeFileSync(file, zipBundle(bundle));
      const tested = spawnSync('unzip', ['-t', file], { encoding: 'utf8' });
      expect(tested.error).toBeUndefined();
      expect([tested.status, tested.stdout.trim().split('\n').at(-1)]).toEqual([0, `No errors detected in compressed data of ${file}.`]);
      const listed = spawnSync('unzip', ['-Z1', file], { encoding: 'utf8' });
      expect(listed.stdout.trim().split('\n')).toEqual(paths);
      // A flipped byte in the compressed data is what unzip -t catches (a CRC error).
      const corrupt = zipBundle(bundle);
      corrupt[60] ^= 0xff;
      writeFileSync(file, corrupt);
      expect(spawnSync('unzip', ['-t', file], { encoding: 'utf8' }).status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
