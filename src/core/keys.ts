// The keys that name things across the extension, made and read here only. A unit is
// `<cluster>/<unit>`: neither name may contain '/' (the settings refuse it), so the first '/' splits
// it. A log source is `<unit key>:<file>` with an absolute file, so the ':' before the unit key's
// second '/' (the file's first character) splits it, whatever ':' the names hold.

export function unitKey(cluster: string, unit: string): string {
  return `${cluster}/${unit}`;
}

/** The cluster of a unit key; undefined if `key` is not one. */
export function clusterOfUnitKey(key: string): string | undefined {
  const slash = key.indexOf('/');
  return slash > 0 ? key.slice(0, slash) : undefined;
}

export function logSourceKey(unitKey: string, file: string): string {
  return `${unitKey}:${file}`;
}

/** The parts of a log source key; undefined if `key` is not one. */
export function parseLogSourceKey(key: string): { unitKey: string; cluster: string; file: string } | undefined {
  const first = key.indexOf('/');
  const fileStart = first > 0 ? key.indexOf('/', first + 1) : -1;
  if (fileStart < 0 || key[fileStart - 1] !== ':') return undefined;
  const unit = key.slice(0, fileStart - 1);
  return { unitKey: unit, cluster: key.slice(0, first), file: key.slice(fileStart) };
}
