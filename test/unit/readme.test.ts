import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runCli } from "../helpers/cli.js";

/**
 * README.md's command table against `tusk --help`, so the two cannot drift apart: every command and
 * subcommand the CLI has is in the table and every one in the table exists, and each row names
 * exactly the options its command takes (--help aside). README's API routes are compared with the
 * live OpenAPI document in test/cluster/monitoring.test.ts.
 */
const README = readFileSync(fileURLToPath(new URL("../../../README.md", import.meta.url)), "utf8");

interface HelpEntry {
  options: Set<string>;
  subcommands: string[];
}

async function help(path: string[]): Promise<HelpEntry> {
  const r = await runCli([...path, "--help"]);
  assert.equal(r.code, 0, r.stderr);
  const section = (name: string) => (r.stdout.split(`\n${name}:\n`)[1] ?? "").split("\n\n")[0]!.split("\n");
  const options = new Set(
    section("Options")
      .flatMap((l) => [...l.matchAll(/(?:^|\s|,)(--[a-z][a-z-]*)/g)].map((m) => m[1]!))
      .filter((o) => o !== "--help" && o !== "--version"),
  );
  const subcommands = section("Commands")
    .map((l) => /^ {2}([a-z][a-z-]*)/.exec(l)?.[1])
    .filter((c): c is string => c !== undefined && c !== "help");
  return { options, subcommands };
}

/** Every command path the CLI has (["up"], ["alerts"], ["alerts", "rules"], …) with its options. */
async function cliCommands(): Promise<Map<string, Set<string>>> {
  const all = new Map<string, Set<string>>();
  const top = await help([]);
  const visit = async (path: string[]): Promise<void> => {
    const h = await help(path);
    all.set(path.join(" "), h.options);
    await Promise.all(h.subcommands.map((s) => visit([...path, s])));
  };
  await Promise.all(top.subcommands.map((c) => visit([c])));
  return all;
}

/** The README's command table: each `tusk …` form in a row's first cell, with the options it names. */
function readmeCommands(): Map<string, Set<string>> {
  const table = README.split("\n## Commands\n")[1]!.split("\n## ")[0]!;
  const all = new Map<string, Set<string>>();
  for (const row of table.split("\n").filter((l) => l.startsWith("| `tusk "))) {
    const cell = row.split(" | ")[0]!;
    let parent: string[] = [];
    for (const [, form] of cell.matchAll(/`([^`]+)`/g)) {
      const words = form!.split(/\s+/);
      // "tusk token create NAME" names a command; a bare "list" after it is a sibling subcommand.
      const path = words[0] === "tusk" ? words.slice(1) : [...parent.slice(0, -1), ...words];
      const name: string[] = [];
      for (const w of path) {
        if (!/^[a-z][a-z-]*$/.test(w)) break;
        name.push(w);
      }
      parent = name;
      const key = name.join(" ");
      const options = all.get(key) ?? new Set<string>();
      for (const m of form!.matchAll(/(?:^|[\s[|])(--[a-z][a-z-]*)/g)) options.add(m[1]!);
      all.set(key, options);
    }
  }
  return all;
}

test("README's command table and tusk --help name the same commands, each with the same options", async () => {
  const cli = await cliCommands();
  const readme = readmeCommands();
  // A command with subcommands and no options of its own (drill, token, config) needs no row.
  const needsRow = [...cli.entries()].filter(([name, options]) => options.size > 0 || ![...cli.keys()].some((k) => k.startsWith(`${name} `))).map(([name]) => name);
  assert.deepEqual(needsRow.filter((c) => !readme.has(c)).sort(), [], "commands missing from README's table");
  assert.deepEqual([...readme.keys()].filter((c) => !cli.has(c)).sort(), [], "README's table names commands tusk does not have");
  const drift: string[] = [];
  for (const [name, options] of readme) {
    const real = cli.get(name)!;
    for (const o of options) if (!real.has(o)) drift.push(`README gives tusk ${name} ${o}, which it does not take`);
    for (const o of real) if (!options.has(o)) drift.push(`tusk ${name} ${o} is missing from README's table`);
  }
  assert.deepEqual(drift, []);
});
