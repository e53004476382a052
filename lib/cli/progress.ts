/**
 * Progress for long CLI phases, on stderr: a redrawn bar on a terminal, a line
 * every 10% otherwise (logs, CI).
 * @module
 */
export interface Progress {
  tick(n?: number): void;
  done(): void;
}

export function progress(label: string, total: number, unit = 'items'): Progress {
  const tty = process.stderr.isTTY === true;
  const start = performance.now();
  let count = 0;
  let lastDecile = -1;
  let lastDraw = 0;
  const render = (final: boolean) => {
    const secs = (performance.now() - start) / 1000;
    const rate = secs > 0 ? count / secs : 0;
    const pct = total > 0 ? Math.floor((100 * count) / total) : 100;
    const eta = rate > 0 && !final ? ` · ${Math.ceil((total - count) / rate)} s left` : '';
    const width = 24;
    const filled = Math.round((width * pct) / 100);
    const line = `${label.padEnd(22)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${count}/${total} ${unit} · ${rate.toFixed(0)}/s${eta}`;
    if (tty) process.stderr.write(`\r${line}${final ? '\n' : ''}`);
    else process.stderr.write(line + '\n');
  };
  return {
    tick(n = 1) {
      count += n;
      if (tty) {
        const now = performance.now();
        if (now - lastDraw > 100 || count >= total) {
          lastDraw = now;
          render(false);
        }
      } else {
        const decile = Math.floor((10 * count) / Math.max(1, total));
        if (decile > lastDecile && count < total) {
          lastDecile = decile;
          render(false);
        }
      }
    },
    done() {
      render(true);
    },
  };
}
