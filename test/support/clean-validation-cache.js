// Templates CloudFormation validation found clean, kept between runs (like tsc's and eslint's caches): a run validates
// only the templates that changed. Validation is a function of the engine's version, its configuration, the options and
// the template's bytes; all four make the key. Only clean reports are kept, so every finding comes from the engine
// itself, with its current message. A fresh clone (CI) validates every template.
const { createHash } = require('node:crypto');
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const DEFAULT_DIR = path.join(__dirname, '..', '..', 'node_modules', '.cache', 'cfn-validate');

/**
 * `validate(template, options)` of an engine of configuration `engineJson`, answered from `dir` for a template of the
 * same bytes found clean before by the same engine version (the report's `filePath` names this template).
 */
function validateWithCleanCache({ version, engineJson, template, options, validate, dir = DEFAULT_DIR }) {
  const key = createHash('sha256')
    .update(JSON.stringify([version, engineJson, options ?? null]))
    .update(template.readBytes())
    .digest('hex');
  const file = path.join(dir, `${key}.json`);
  try {
    return { ...JSON.parse(readFileSync(file, 'utf8')), filePath: template.name ?? template.path };
  } catch {
    // Not validated clean before.
  }
  const report = validate(template, options);
  if (report.diagnostics.length === 0) {
    mkdirSync(dir, { recursive: true });
    // Written whole, then renamed: another worker may read it at any moment.
    writeFileSync(`${file}.${process.pid}`, JSON.stringify(report));
    renameSync(`${file}.${process.pid}`, file);
  }
  return report;
}

module.exports = { validateWithCleanCache };
