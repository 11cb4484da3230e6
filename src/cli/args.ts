/** `--name value`, `--flag` and positional arguments. */
export function parseArgs(args: string[]): { flags: Record<string, string | true>; positional: string[] } {
  const flags: Record<string, string | true> = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--')) {
      const [k, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
      if (inline !== undefined) flags[k] = inline;
      else if (args[i + 1] !== undefined && !args[i + 1]!.startsWith('--')) flags[k] = args[++i]!;
      else flags[k] = true;
    } else positional.push(a);
  }
  return { flags, positional };
}

/** Progress on stderr, overwriting one line on a terminal. */
export function progressPrinter(label: string): (pct: number) => void {
  let last = -1;
  return (pct) => {
    const p = Math.floor(pct);
    if (p === last) return;
    last = p;
    if (process.stderr.isTTY) process.stderr.write(`\r${label}: ${p}%${p >= 100 ? '\n' : ''}`);
    else if (p % 10 === 0) process.stderr.write(`${label}: ${p}%\n`);
  };
}
