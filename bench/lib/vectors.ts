/** Deterministic Gaussian-mixture vectors, the shape of real embedding collections (clusters). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
}

export interface MixtureOptions {
  count: number;
  dims: number;
  clusters: number;
  spread: number;
  seed: number;
}

/**
 * `count` vectors around `clusters` centres (centre ~ N(0,1) per dimension, point = centre + N(0, spread)),
 * rounded to 5 decimals so the text sent to PostgreSQL and the floats used here are the same numbers.
 */
export function mixture(o: MixtureOptions, centresSeed = 7): Float32Array {
  const g = gaussian(mulberry32(o.seed));
  const gc = gaussian(mulberry32(centresSeed));
  const centres = Array.from({ length: o.clusters }, () => Float32Array.from({ length: o.dims }, gc));
  const pick = mulberry32(o.seed + 1);
  const out = new Float32Array(o.count * o.dims);
  for (let i = 0; i < o.count; i++) {
    const c = centres[Math.floor(pick() * o.clusters)]!;
    for (let d = 0; d < o.dims; d++) out[i * o.dims + d] = Math.round((c[d]! + g() * o.spread) * 1e5) / 1e5;
  }
  return out;
}

export function row(data: Float32Array, i: number, dims: number): Float32Array {
  return data.subarray(i * dims, (i + 1) * dims);
}

export function toText(v: Float32Array): string {
  let s = "[";
  for (let i = 0; i < v.length; i++) s += (i ? "," : "") + v[i];
  return `${s}]`;
}

/** Exact top-k by cosine distance, brute force. */
export function exactTopK(data: Float32Array, count: number, dims: number, q: Float32Array, k: number): number[] {
  const norms =
    exactTopK.norms.get(data) ??
    (() => {
      const n = new Float32Array(count);
      for (let i = 0; i < count; i++) {
        let s = 0;
        for (let d = 0; d < dims; d++) s += data[i * dims + d]! ** 2;
        n[i] = Math.sqrt(s);
      }
      exactTopK.norms.set(data, n);
      return n;
    })();
  let qn = 0;
  for (let d = 0; d < dims; d++) qn += q[d]! ** 2;
  qn = Math.sqrt(qn);
  const best: { id: number; dist: number }[] = [];
  for (let i = 0; i < count; i++) {
    let dot = 0;
    const off = i * dims;
    for (let d = 0; d < dims; d++) dot += data[off + d]! * q[d]!;
    const dist = 1 - dot / (norms[i]! * qn);
    if (best.length < k || dist < best[best.length - 1]!.dist) {
      best.push({ id: i, dist });
      best.sort((a, b) => a.dist - b.dist);
      if (best.length > k) best.pop();
    }
  }
  return best.map((b) => b.id);
}
exactTopK.norms = new WeakMap<Float32Array, Float32Array>();

export function recallAt(found: number[], truth: number[]): number {
  const t = new Set(truth);
  return found.filter((x) => t.has(x)).length / truth.length;
}
