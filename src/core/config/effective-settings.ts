import type { TuskConfig } from "./config-file.js";
import type { HostFacts } from "./host-facts.js";
import { tunePgbouncer } from "./pgbouncer-tuner.js";
import { tunePgbackrest } from "./pgbackrest-tuner.js";
import { REQUIRED_PRELOAD, tunePostgres, type TunedSetting } from "./tuner.js";

/** Applies a user's overrides on top of tuned settings; overrides of unknown-to-the-tuner names are added. */
function applyOverrides(tuned: TunedSetting[], overrides: Record<string, string>, merge: (name: string, tunedValue: string, override: string) => string = (_n, _t, o) => o): TunedSetting[] {
  const result = tuned.map((s) =>
    s.name in overrides ? { ...s, value: merge(s.name, s.value, overrides[s.name]!), source: "override" as const, reason: `Set in tusk.yaml (tusk would choose ${s.value}: ${s.reason})` } : s,
  );
  for (const [name, value] of Object.entries(overrides)) {
    if (!tuned.some((s) => s.name === name)) result.push({ name, value, reason: "Set in tusk.yaml.", source: "override" });
  }
  return result;
}

/** shared_preload_libraries from the user are added to the libraries tusk needs, never replace them. */
function mergePreload(name: string, tunedValue: string, override: string): string {
  if (name !== "shared_preload_libraries") return override;
  const libs = [
    ...REQUIRED_PRELOAD,
    ...override
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  ];
  return [...new Set(libs)].join(",") || tunedValue;
}

export interface EffectiveSettings {
  postgres: TunedSetting[];
  pgbouncer: TunedSetting[];
  pgbackrest: TunedSetting[];
}

export function effectiveSettings(config: TuskConfig, host: HostFacts): EffectiveSettings {
  const postgres = applyOverrides(tunePostgres({ host, cronDatabase: config.database }), config.postgresql, mergePreload);
  const maxConnections = Number(postgres.find((s) => s.name === "max_connections")?.value ?? 100);
  return {
    postgres,
    pgbouncer: applyOverrides(tunePgbouncer(host, maxConnections), config.pgbouncer),
    pgbackrest: tunePgbackrest(host, config.backups),
  };
}

export function asRecord(settings: TunedSetting[]): Record<string, string> {
  return Object.fromEntries(settings.map((s) => [s.name, s.value]));
}
