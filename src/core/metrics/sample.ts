/** One figure of one collection: Prometheus-style name and labels. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A stable key for a series: its name and its labels in key order. */
export function seriesKey(name: string, labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort();
  return `${name}{${keys.map((k) => `${k}=${JSON.stringify(labels[k])}`).join(",")}}`;
}

/** One collection: when, and every sample, with lookups. */
export class Snapshot {
  private readonly byName = new Map<string, Sample[]>();

  constructor(
    readonly at: Date,
    readonly samples: readonly Sample[],
  ) {
    for (const s of samples) {
      const list = this.byName.get(s.name);
      if (list) list.push(s);
      else this.byName.set(s.name, [s]);
    }
  }

  all(name: string): Sample[] {
    return this.byName.get(name) ?? [];
  }

  /** The value of the series with exactly these labels among `name`'s ({} for an unlabelled one). */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    const key = seriesKey(name, labels);
    return this.all(name).find((s) => seriesKey(s.name, s.labels) === key)?.value;
  }

  sum(name: string): number {
    return this.all(name).reduce((a, s) => a + s.value, 0);
  }
}

/** How much a counter grew between two snapshots (a reset counts from zero). */
export function counterDelta(now: Snapshot, before: Snapshot | undefined, name: string, labels: Record<string, string> = {}): number | undefined {
  const a = now.value(name, labels);
  const b = before?.value(name, labels);
  if (a === undefined || b === undefined) return undefined;
  return a >= b ? a - b : a;
}
