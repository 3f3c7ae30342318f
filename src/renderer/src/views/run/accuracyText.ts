/** An accuracy as the run screen writes it (tables, the chart's tooltip): a percentage to one decimal, a dash where none was measured. */
export function accuracyText(x: number | null | undefined): string {
  return x === null || x === undefined ? '-' : `${(100 * x).toFixed(1)}%`;
}
