// A reporter for Node's test runner (node --test --test-reporter=./scripts/test-reporter.mjs):
// one line per top-level test as it ends, one line per test file as it ends (its result, counts and
// time), each failure in full with the output its file printed, and the runner's own closing summary
// (# tests, # pass, # fail, …) as its TAP reporter prints it. Just before that summary, every failed
// test is named again with the first line of its error, so that the end of a long log (all a CI
// page may keep) says what failed.
import { relative } from "node:path";
import { inspect } from "node:util";

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

function describeError(error) {
  const cause = error?.cause ?? error;
  if (cause instanceof Error || (cause && typeof cause === "object" && "message" in cause)) {
    const stack =
      typeof cause.stack === "string"
        ? cause.stack
            .split("\n")
            .filter((l) => /^\s+at /.test(l))
            .slice(0, 5)
            .join("\n")
        : "";
    return `${cause.message ?? inspect(cause)}${stack ? `\n${stack}` : ""}`;
  }
  // An error that did not survive the trip from the test's process (a DOMException such as a fetch's
  // TimeoutError arrives as {}): say what is known of it rather than print nothing.
  const shown = inspect(cause, { depth: 4 });
  if (shown === "{}" && error) return `${error.message ?? ""} (an error of a kind that could not be carried over from the test process: ${error.failureType ?? error.code ?? "unknown"})`.trim();
  return shown;
}

const indent = (text, by = "    ") =>
  String(text)
    .replace(/\n$/, "")
    .split("\n")
    .map((l) => by + l)
    .join("\n");

/**
 * Node runs two files at once but reports one file's tests at a time: the others' tests are queued
 * and replayed later, while a file's own test:complete is emitted when its process ends, possibly
 * before its tests are replayed. So a file's line is printed once it has completed and its tests
 * have been seen: at its completion if its tests were the last reported, else when another file's
 * tests start to be reported, else at the end.
 */
export default async function* report(source) {
  const files = new Map(); // file → { pass, fail, failures: string[], output: string[], done?: details }
  const fileOf = (file) => {
    let f = files.get(file);
    if (!f) {
      f = { pass: 0, fail: 0, failures: [], output: [], done: undefined };
      files.set(file, f);
    }
    return f;
  };
  const name = (file) => (file ? relative(process.cwd(), file) : "(no file)");
  let lastFile;
  /** "file › test: first line of the error", for the recap before the summary. */
  const failed = [];
  let recapped = false;
  const flush = (file) => {
    const f = files.get(file);
    if (!f?.done) return "";
    files.delete(file);
    const passed = f.done.passed !== false && f.fail === 0;
    let line = `${passed ? "✔" : "✖"} ${name(file)}: ${f.pass} passed, ${f.fail} failed, ${seconds(f.done.duration_ms ?? 0)}\n`;
    if (!passed) {
      if (f.failures.length) line += `${indent(f.failures.join("\n"), "  ")}\n`;
      else if (f.done.error) line += `${indent(describeError(f.done.error), "  ")}\n`;
      if (f.output.length) line += `  output of ${name(file)}:\n${indent(f.output.join(""))}\n`;
    }
    return line;
  };
  /** A queued event of `file`: the previous file's tests are all reported if it completed. */
  const reporting = (file) => {
    let out = "";
    if (lastFile !== undefined && lastFile !== file) out = flush(lastFile);
    lastFile = file;
    return out;
  };
  for await (const event of source) {
    const d = event.data;
    switch (event.type) {
      case "test:pass":
      case "test:fail": {
        if (d.name === d.file || d.details?.type === "suite" || d.skip || d.todo) break;
        const head = reporting(d.file);
        const f = fileOf(d.file);
        const ok = event.type === "test:pass";
        if (ok) f.pass++;
        else {
          f.fail++;
          if (d.details?.error?.failureType !== "subtestsFailed") {
            f.failures.push(`✖ ${d.name}\n${indent(describeError(d.details?.error))}`);
            failed.push(`${name(d.file)} › ${d.name}: ${describeError(d.details?.error).split("\n")[0]}`);
          }
        }
        const line = d.nesting === 0 ? `  ${ok ? "✔" : "✖"} ${name(d.file)} › ${d.name} (${seconds(d.details?.duration_ms ?? 0)})\n` : "";
        if (head || line) yield head + line;
        break;
      }
      case "test:stdout":
      case "test:stderr":
        if (d.file) {
          const head = reporting(d.file);
          fileOf(d.file).output.push(d.message);
          if (head) yield head;
        }
        break;
      case "test:complete":
        if (d.file && d.name === d.file) {
          fileOf(d.file).done = d.details ?? {};
          if (lastFile === d.file) {
            const line = flush(d.file);
            if (line) yield line;
          }
        }
        break;
      case "test:diagnostic":
        if (d.nesting === 0 && !d.file) {
          let rest = "";
          for (const file of [...files.keys()]) rest += flush(file);
          if (!recapped && failed.length > 0) rest += `Failed (${failed.length}):\n${failed.map((f) => `  ✖ ${f}`).join("\n")}\n`;
          recapped = true;
          yield `${rest}# ${d.message}\n`;
        }
        break;
    }
  }
  for (const file of [...files.keys()]) {
    const line = flush(file);
    if (line) yield line;
  }
}
