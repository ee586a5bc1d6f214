// At most `limit` holders at a time, the others wait in order: how many channels one SSH
// connection opens at once (sshd refuses more than its MaxSessions).
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private limit: number) {}

  /** Lowers (or raises) the limit: holders keep their slots; no new one is handed out past it. */
  setLimit(limit: number): void {
    this.limit = Math.max(1, limit);
    while (this.active < this.limit && this.waiting.length) {
      this.active++;
      this.waiting.shift()!();
    }
  }
  async acquire(): Promise<() => void> {
    // A waiter is handed the releaser's slot as it stands (the count never drops in between), so
    // nobody who asks meanwhile can take it first: never more than `limit`, waiters in order.
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // Past a lowered limit a slot is given back, not handed on.
      const next = this.active <= this.limit ? this.waiting.shift() : undefined;
      if (next) next();
      else this.active--;
    };
  }
}
