/** Ranking scores: plain TypeScript, shared by training, evaluation and the browser page. */

/** the indices of the k largest scores of each row of a [N, K] array, best first */
export function topK(scores: Float32Array | Float64Array, K: number, k: number): number[][] {
  const rows: number[][] = [];
  for (let n = 0; n < scores.length / K; n++) {
    const row = scores.subarray(n * K, (n + 1) * K);
    rows.push(Array.from(row.keys()).sort((a, b) => row[b] - row[a] || a - b).slice(0, k));
  }
  return rows;
}
