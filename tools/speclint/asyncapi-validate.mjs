// asyncapi-validate.mjs FILE...
//
// Parses each AsyncAPI document with the official parser (@asyncapi/parser,
// which validates against the AsyncAPI JSON Schema and runs its built-in
// Spectral ruleset) and prints every diagnostic. Exits 1 when any file has a
// diagnostic of severity error (or cannot be parsed at all), 0 otherwise;
// warnings and hints are printed but do not fail.
import { resolve } from 'node:path';
import parserPkg from '@asyncapi/parser';

const { Parser, fromFile, DiagnosticSeverity } = parserPkg;

const severityName = {
  [DiagnosticSeverity.Error]: 'error',
  [DiagnosticSeverity.Warning]: 'warning',
  [DiagnosticSeverity.Information]: 'info',
  [DiagnosticSeverity.Hint]: 'hint',
};

// position formats a diagnostic's location as line:column (1-based) and the
// JSON path, so a message can be found in the file.
function position(d) {
  const start = d.range?.start;
  const at = start ? `${start.line + 1}:${start.character + 1}` : '?:?';
  const path = Array.isArray(d.path) && d.path.length ? ` at ${d.path.join('.')}` : '';
  return `${at}${path}`;
}

async function validate(parser, file) {
  const { document, diagnostics } = await fromFile(parser, file).parse();
  let errors = 0;
  for (const d of diagnostics) {
    const sev = severityName[d.severity] ?? `severity ${d.severity}`;
    if (d.severity === DiagnosticSeverity.Error) errors++;
    console.log(`${file}:${position(d)} ${sev} ${d.code}: ${d.message}`);
  }
  if (!document && errors === 0) {
    // The parser gave up without saying why in an error: still a failure.
    console.log(`${file}: error: the document could not be parsed`);
    errors++;
  }
  return errors;
}

async function main(files) {
  if (files.length === 0) {
    console.error('usage: node asyncapi-validate.mjs FILE...');
    return 2;
  }
  const parser = new Parser();
  let failed = 0;
  for (const f of files) {
    const file = resolve(f);
    const errors = await validate(parser, file);
    console.log(errors ? `${f}: ${errors} error(s)` : `${f}: valid AsyncAPI document`);
    if (errors) failed++;
  }
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`asyncapi-validate: ${err?.stack ?? err}`);
    process.exit(1);
  },
);
