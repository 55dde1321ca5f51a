// Compile .ksy files with the real Kaitai Struct compiler (npm kaitai-struct-compiler) and report
// every problem it finds, warnings included: the JS API drops warnings, so the compiler's own
// problem list is captured at the one place it is filtered (the patch point is checked).
// usage: node ksc.js LANGUAGE OUTDIR FILE.ksy...   -> JSON {file: {files: [...], problems: [...], error}}
"use strict";
const fs = require("fs");
const path = require("path");
const modules = process.env.KSC_MODULES;
const yaml = require(path.join(modules, "js-yaml"));
const source = fs.readFileSync(path.join(modules, "kaitai-struct-compiler", "kaitai-struct-compiler.js"), "utf8");
const hook = "var problems = $as_sc_Iterable(problems$2);";
if (!source.includes(hook)) {
  console.error("kaitai-struct-compiler: the problem list hook was not found in this version");
  process.exit(3);
}
const patched = source.replace(hook, hook + " globalThis.__kscProblems.push(problems);");
globalThis.__kscProblems = [];
const moduleShim = { exports: {} };
new Function("module", "exports", "define", patched)(moduleShim, moduleShim.exports, undefined);
const compiler = moduleShim.exports;

function messages(problems) {
  const out = [];
  const it = problems.iterator__sc_Iterator();
  while (it.hasNext__Z()) {
    const p = it.next__O();
    out.push(`${p.severity__Lio_kaitai_struct_problems_ProblemSeverity().message__T()}: ${p.message__T()}`);
  }
  return out;
}

async function main() {
  const [lang, outdir, ...files] = process.argv.slice(2);
  const report = {};
  for (const file of files) {
    globalThis.__kscProblems = [];
    const entry = { files: [], problems: [], error: null };
    try {
      const spec = yaml.load(fs.readFileSync(file, "utf8"));
      const out = await compiler.compile(lang, spec, null, false);
      for (const [name, text] of Object.entries(out)) {
        fs.writeFileSync(path.join(outdir, name), text);
        entry.files.push(name);
      }
    } catch (e) {
      let text = String(e);
      try { text = e.getMessage__T(); } catch (_) { /* a plain JS error */ }
      entry.error = text;
    }
    for (const problems of globalThis.__kscProblems) entry.problems.push(...messages(problems));
    report[file] = entry;
  }
  process.stdout.write(JSON.stringify({ version: compiler.version, report }));
}
main().catch((e) => { console.error(String(e && e.stack || e)); process.exit(2); });
