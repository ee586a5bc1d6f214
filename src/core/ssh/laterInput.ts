// The input of a command started before that input is known (ExecOptions.stdin as a promise): given
// once it is known, or withheld, after which the command reads an empty input and does nothing.
export class LaterInput<T> {
  readonly promise: Promise<T>;
  private giveValue!: (value: T) => void;
  private withholdWith!: (e: Error) => void;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.giveValue = resolve;
      this.withholdWith = reject;
    });
    // Withholding is the command's business (it ends empty), not an error of its own.
    this.promise.catch(() => undefined);
  }

  give(value: T): void {
    this.giveValue(value);
  }

  /** Ends the command's input unsent; no effect once given. */
  withhold(why: string): void {
    this.withholdWith(new Error(why));
  }
}
