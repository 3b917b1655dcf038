import { cpus, totalmem } from "node:os";
import { readFileSync } from "node:fs";

/** The machine line every benchmark prints above its table. */
export function machineLine(): string {
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const os = (() => {
    try {
      return /PRETTY_NAME="([^"]+)"/.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? "Linux";
    } catch {
      return "Linux";
    }
  })();
  return `${os}; ${cpus().length} cores (${cpu}); ${(totalmem() / 1024 ** 3).toFixed(1)} GiB RAM; Node ${process.version}`;
}

export function printTable(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(`\n${title}\n`);
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of cells.slice(1)) console.log(line(r));
}

export const seconds = (ms: number) => (ms / 1000).toFixed(1);
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}
