// What the core needs from whoever hosts it (the VS Code extension or the CLI): prompts, secret
// storage and a log. Core code never talks to a user or a UI directly.

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Secret storage: VS Code's SecretStorage in the extension; memory (and env) in the CLI. */
export interface SecretStore {
  get(key: string): Promise<string | undefined>;
  store(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
}

export class MemorySecretStore implements SecretStore {
  private readonly values = new Map<string, string>();
  async get(key: string) {
    return this.values.get(key);
  }
  async store(key: string, value: string) {
    this.values.set(key, value);
  }
  async delete(key: string) {
    this.values.delete(key);
  }
}

export type TrustDecision = 'once' | 'always' | 'reject';

export interface HostKeyQuestion {
  readonly unit: string;
  readonly host: string;
  readonly port: number;
  readonly keyType: string;
  readonly fingerprint: string;
  /** The host is known with keys of these other types (worth a warning). */
  readonly otherKnownTypes: readonly string[];
}

export interface SecretQuestion {
  readonly kind: 'passphrase' | 'password';
  readonly unit: string;
  /** e.g. "Passphrase for /home/a/.ssh/id_ed25519" or "Password for root@10.0.0.1". */
  readonly prompt: string;
  /** A stored value was tried and refused. */
  readonly retry: boolean;
}

export interface KeyboardInteractiveQuestion {
  readonly unit: string;
  readonly name: string;
  readonly instructions: string;
  readonly prompts: readonly { prompt: string; echo: boolean }[];
}

export interface Prompts {
  /** An unknown host key: accept once, trust permanently, or refuse. */
  confirmHostKey(q: HostKeyQuestion): Promise<TrustDecision>;
  /** undefined: the user cancelled. `remember`: keep it in secret storage. */
  askSecret(q: SecretQuestion): Promise<{ value: string; remember: boolean } | undefined>;
  askKeyboardInteractive(q: KeyboardInteractiveQuestion): Promise<string[] | undefined>;
}

/** Prompts for hosts that cannot ask anybody: unknown keys refused, no secrets. */
export const noPrompts: Prompts = {
  async confirmHostKey() {
    return 'reject';
  },
  async askSecret() {
    return undefined;
  },
  async askKeyboardInteractive() {
    return undefined;
  },
};

/** Cooperative cancellation, as VS Code's CancellationToken or an AbortSignal provide. */
export interface Cancellation {
  readonly isCancellationRequested: boolean;
}

export const neverCancelled: Cancellation = { isCancellationRequested: false };
