/** One series of the daemon's Prometheus text on /metrics, e.g. `registrator_reconciliations_total{outcome="success"}`; 0 when absent. */
export async function metric(port: number, series: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** Successful reconciliations so far. */
export function reconciliations(port: number): Promise<number> {
  return metric(port, 'registrator_reconciliations_total{outcome="success"}');
}
