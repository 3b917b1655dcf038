// A reporter for Node's test runner (node --test --test-reporter=./scripts/test-reporter.mjs):
// one line per top-level test as it ends, one line per test file as it ends (its result, counts and
// time), each failure in full with the output its file printed, and the runner's own closing summary
// (# tests, # pass, # fail, …) as its TAP reporter prints it.
import { relative } from "node:path";
import { inspect } from "node:util";

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

function describeError(error) {
  const cause = error?.cause ?? error;
  if (cause instanceof Error || (cause && typeof cause === "object" && "message" in cause)) {
    const stack = typeof cause.stack === "string" ? cause.stack.split("\n").filter((l) => /^\s+at /.test(l)).slice(0, 5).join("\n") : "";
    return `${cause.message ?? inspect(cause)}${stack ? `\n${stack}` : ""}`;
  }
  return inspect(cause, { depth: 4 });
}

const indent = (text, by = "    ") => String(text).replace(/\n$/, "").split("\n").map((l) => by + l).join("\n");

export default async function* report(source) {
  const files = new Map(); // file → { pass, fail, failures: string[], output: string[] }
  const fileOf = (file) => {
    let f = files.get(file);
    if (!f) files.set(file, (f = { pass: 0, fail: 0, failures: [], output: [] }));
    return f;
  };
  const name = (file) => (file ? relative(process.cwd(), file) : "(no file)");
  for await (const event of source) {
    const d = event.data;
    switch (event.type) {
      case "test:pass":
      case "test:fail": {
        if (d.name === d.file) break; // the file itself: reported on test:complete
        if (d.details?.type === "suite") break;
        const f = fileOf(d.file);
        const ok = event.type === "test:pass";
        if (d.skip || d.todo) break;
        if (ok) f.pass++;
        else {
          f.fail++;
          if (d.details?.error?.failureType !== "subtestsFailed") f.failures.push(`✖ ${d.name}\n${indent(describeError(d.details?.error))}`);
        }
        if (d.nesting === 0) yield `  ${ok ? "✔" : "✖"} ${name(d.file)} › ${d.name} (${seconds(d.details?.duration_ms ?? 0)})\n`;
        break;
      }
      case "test:stdout":
      case "test:stderr":
        if (d.file) fileOf(d.file).output.push(d.message);
        break;
      case "test:complete":
        if (d.file && d.name === d.file) {
          const f = fileOf(d.file);
          const passed = d.details?.passed !== false && f.fail === 0;
          let line = `${passed ? "✔" : "✖"} ${name(d.file)}: ${f.pass} passed, ${f.fail} failed, ${seconds(d.details?.duration_ms ?? 0)}\n`;
          if (!passed) {
            if (f.failures.length) line += `${indent(f.failures.join("\n"), "  ")}\n`;
            else if (d.details?.error) line += `${indent(describeError(d.details.error), "  ")}\n`;
            if (f.output.length) line += `  output of ${name(d.file)}:\n${indent(f.output.join(""))}\n`;
          }
          files.delete(d.file);
          yield line;
        }
        break;
      case "test:diagnostic":
        if (d.nesting === 0 && !d.file) yield `# ${d.message}\n`;
        break;
    }
  }
}
