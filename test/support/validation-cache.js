// CloudFormation validation reports kept between runs (like tsc's and eslint's caches): a run validates only the
// templates that changed, and builds no engine when none did (a build costs ~6 CPU-s). A report is a function of the
// engine's version, its configuration, the options and the template's bytes; all four make the key, so a new engine
// version validates every template again, and its findings come with its own messages. A fresh clone (CI) validates
// every template.
const { createHash } = require('node:crypto');
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const DEFAULT_DIR = path.join(__dirname, '..', '..', 'node_modules', '.cache', 'cfn-validate');

/**
 * `validate(template, options)` of an engine of configuration `engineJson`, answered from `dir` for a template of the
 * same bytes validated before by the same engine version (the report's `filePath` names this template: the
 * diagnostics do not name the file).
 */
function validateWithCache({ version, engineJson, template, options, validate, dir = DEFAULT_DIR }) {
  const key = createHash('sha256')
    .update(JSON.stringify([version, engineJson, options ?? null]))
    .update(template.readBytes())
    .digest('hex');
  const file = path.join(dir, `${key}.json`);
  try {
    return { ...JSON.parse(readFileSync(file, 'utf8')), filePath: template.name ?? template.path };
  } catch {
    // Not validated before.
  }
  const report = validate(template, options);
  mkdirSync(dir, { recursive: true });
  // Written whole, then renamed: another worker may read it at any moment.
  writeFileSync(`${file}.${process.pid}`, JSON.stringify(report));
  renameSync(`${file}.${process.pid}`, file);
  return report;
}

module.exports = { validateWithCache };
