import { mkdirSync, readFileSync, readdirSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run, tail } from "../exec.js";
import { TuskError } from "../errors.js";
import type { ProgressStep } from "../progress.js";

const APT_ENV = { ...process.env, DEBIAN_FRONTEND: "noninteractive", NEEDRESTART_MODE: "a" };

/** Which of `packages` dpkg does not report as installed. */
export async function missingPackages(packages: readonly string[]): Promise<string[]> {
  // dpkg-query's own ${field} format, not a template literal.
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's format syntax
  const r = await run("dpkg-query", ["-W", "-f=${Package} ${db:Status-Status}\n", ...packages]);
  const installed = new Set(
    r.stdout
      .split("\n")
      .map((l) => l.trim().split(" "))
      .filter(([, status]) => status === "installed")
      .map(([name]) => name),
  );
  return packages.filter((p) => !installed.has(p));
}

/**
 * Installs Debian packages with apt-get, reporting apt's own progress lines ("Unpacking x").
 * Runs `apt-get update` first when the package lists have never been fetched.
 */
export async function aptInstall(packages: readonly string[], step: ProgressStep, logFile: string): Promise<void> {
  if (packages.length === 0) return;
  step.update("apt-get update");
  const update = await run("apt-get", ["update"], { env: APT_ENV, logFile });
  if (update.code !== 0) {
    throw new TuskError("InstallFailed", "apt-get update failed.", {
      detail: tail(update.stderr || update.stdout),
      hint: `Check the machine's apt sources and network, then run tusk up again (full log: ${logFile}).`,
    });
  }
  step.update(`installing ${packages.length} packages`);
  const install = await run("apt-get", ["install", "-y", "--no-install-recommends", "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold", ...packages], {
    env: APT_ENV,
    logFile,
  });
  if (install.code !== 0) {
    throw new TuskError("InstallFailed", `apt-get install failed for: ${packages.join(" ")}.`, {
      detail: tail(install.stderr || install.stdout),
      hint: `See ${logFile}; fix the apt problem shown, then run tusk up again.`,
    });
  }
}

/** The first Debian mirror URI in the machine's own apt sources (deb822 or one-line format). */
export function configuredDebianMirror(): string {
  const files: string[] = [];
  if (existsSync("/etc/apt/sources.list")) files.push("/etc/apt/sources.list");
  const dir = "/etc/apt/sources.list.d";
  if (existsSync(dir)) {
    for (const f of readdirSync(dir).sort()) if (/\.(list|sources)$/.test(f)) files.push(join(dir, f));
  }
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    for (const stanza of text.split(/\n\s*\n/)) {
      // deb822: URIs + Suites naming a Debian suite, not the security archive
      const uris = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1] ?? "";
      if (uris && /\bbookworm\b/.test(suites) && !/security/.test(suites) && /^deb$|^deb\s/m.test(/^Types:\s*(.+)$/m.exec(stanza)?.[1] ?? "deb")) {
        return uris.replace(/\/$/, "");
      }
    }
    for (const line of text.split("\n")) {
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/.exec(line.trim());
      if (m?.[1]) return m[1].replace(/\/$/, "");
    }
  }
  throw new TuskError("InstallFailed", "No Debian bookworm mirror found in the machine's apt sources.", {
    hint: "Configure a Debian mirror in /etc/apt/sources.list(.d), then run tusk up again.",
  });
}

/**
 * A private apt configuration for fetching source packages of another suite: its own source list,
 * package lists and cache, so the system's apt state and sources are left untouched.
 */
export function privateAptOptions(workDir: string, mirror: string, suite: string): string[] {
  const etc = join(workDir, "etc");
  for (const d of [etc, join(etc, "sources.list.d"), join(etc, "preferences.d"), join(workDir, "lists", "partial"), join(workDir, "cache", "archives", "partial")]) {
    mkdirSync(d, { recursive: true });
  }
  writeFileSync(join(etc, "sources.list"), `deb-src ${mirror} ${suite} main\n`);
  return [
    "-o",
    `Dir::Etc::SourceList=${join(etc, "sources.list")}`,
    "-o",
    `Dir::Etc::SourceParts=${join(etc, "sources.list.d")}`,
    "-o",
    `Dir::Etc::PreferencesParts=${join(etc, "preferences.d")}`,
    "-o",
    `Dir::State::Lists=${join(workDir, "lists")}`,
    "-o",
    `Dir::Cache=${join(workDir, "cache")}`,
    // The work directory belongs to root; apt's sandbox user could not write into it.
    "-o",
    "APT::Sandbox::User=root",
  ];
}
