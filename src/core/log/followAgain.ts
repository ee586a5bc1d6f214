// A view (the log panel, a log document) whose log source ended follows the log again by itself,
// but not without end.

/**
 * How often a view follows a log again by itself after its source ended: at most 3 times a minute,
 * so a unit that keeps failing ends "stopped" (with Resume or Open mailgw Log) instead of a loop.
 */
export class FollowAgainBudget {
  private times: number[] = [];

  /** Whether one more attempt is allowed now (and counts it if so). */
  take(now = Date.now()): boolean {
    this.times = this.times.filter((t) => now - t < 60_000);
    if (this.times.length >= 3) return false;
    this.times.push(now);
    return true;
  }

  /** The user asked to follow again: a fresh budget. */
  reset(): void {
    this.times = [];
  }
}
