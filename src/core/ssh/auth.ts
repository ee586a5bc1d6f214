// Authentication in the order admins expect: ssh-agent, key file (passphrase asked once, optionally
// remembered), password (asked, optionally remembered), keyboard-interactive. Secrets only pass
// between the secret store, the prompt and ssh2: never into messages or logs.
import { readSettingFile, SettingFileError } from '../files';
import type { AuthenticationType, AuthHandlerMiddleware, NextAuthHandler } from 'ssh2';
import type { Logger, Prompts, SecretStore } from '../host';
import { SshError } from './errors';
import { ssh2 } from './loadSsh2';

export interface AuthContext {
  readonly unitLabel: string;
  readonly username: string;
  readonly host: string;
  readonly port: number;
  readonly identityFiles: readonly string[];
  readonly agentSocket?: string;
  readonly prompts: Prompts;
  readonly secrets: SecretStore;
  readonly logger: Logger;
  /** Secrets entered during this session and not stored: kept in memory for reconnects. */
  readonly sessionSecrets: Map<string, string>;
  /** Prompts pause the handshake timeout. */
  readonly whilePrompting: <T>(fn: () => Promise<T>) => Promise<T>;
  /** False on automatic reconnects: no prompt pops up on its own. */
  readonly interactive: boolean;
}

export const MAX_PASSWORD_PROMPTS = 3;

export function passwordSecretKey(username: string, host: string, port: number): string {
  return `password:${username}@${host}:${port}`;
}

export function passphraseSecretKey(file: string): string {
  return `passphrase:${file}`;
}

/** ssh2 stops authenticating when the handler answers false; its typings leave that out. */
const STOP = false as unknown as AuthenticationType;

type Attempt = { method: string; next: () => Promise<Parameters<NextAuthHandler>[0] | undefined> };

export interface AuthSession {
  readonly handler: AuthHandlerMiddleware;
  /** The method that was tried last (the one that succeeded, once the connection is ready). */
  lastMethod(): string | undefined;
  /** Methods tried, for error messages. */
  tried(): string[];
  /** After success: store the secrets the user asked us to remember. */
  commit(): Promise<void>;
  /** Error raised inside the handler (cancelled prompt, unreadable key), if any. */
  failure(): SshError | undefined;
}

export function createAuthSession(ctx: AuthContext): AuthSession {
  const { username } = ctx;
  const attempts: Attempt[] = [];
  const triedMethods: string[] = [];
  let last: string | undefined;
  let failure: SshError | undefined;
  const toRemember = new Map<string, string>();
  const pwKey = passwordSecretKey(username, ctx.host, ctx.port);

  if (ctx.agentSocket) {
    attempts.push({
      method: 'agent',
      next: async () => {
        return { type: 'agent', username, agent: ctx.agentSocket! };
      },
    });
  }
  for (const file of ctx.identityFiles) {
    attempts.push({
      method: `publickey`,
      next: () => keyAttempt(file),
    });
  }

  async function keyAttempt(file: string): Promise<Parameters<NextAuthHandler>[0] | undefined> {
    let data: Buffer;
    try {
      data = readSettingFile(file, `${ctx.unitLabel}: identity file (the unit's "identityFile" in mailgwHa.clusters, or IdentityFile in ~/.ssh/config)`);
    } catch (err) {
      const code = err instanceof SettingFileError ? err.code : 'EIO';
      if (code === 'ENOENT' || code === 'EACCES') {
        ctx.logger.warn(`${ctx.unitLabel}: identity file ${file} cannot be read (${code}); skipping it`);
        return undefined;
      }
      // /dev/zero, a FIFO, a directory, a huge file: a mistake (or a trap) in the settings. Say so.
      failure = new SshError('config', (err as Error).message);
      return undefined;
    }
    const plain = ssh2().utils.parseKey(data);
    if (!(plain instanceof Error)) return { type: 'publickey', username, key: data };
    if (!/encrypted|passphrase/i.test(plain.message)) {
      ctx.logger.warn(`${ctx.unitLabel}: identity file ${file} is not a private key ssh2 can read (${plain.message}); skipping it`);
      return undefined;
    }
    const key = passphraseSecretKey(file);
    let stored = ctx.sessionSecrets.get(key) ?? (await ctx.secrets.get(key));
    let retry = false;
    for (let i = 0; i < MAX_PASSWORD_PROMPTS; i++) {
      let passphrase = stored;
      let remember = false;
      if (passphrase === undefined) {
        if (!ctx.interactive) return undefined;
        const answer = await ctx.whilePrompting(() => ctx.prompts.askSecret({ kind: 'passphrase', unit: ctx.unitLabel, prompt: `Passphrase for ${file}`, retry }));
        if (!answer) {
          failure = new SshError('auth-cancelled', `${ctx.unitLabel}: no passphrase given for ${file}; connection cancelled.`);
          return undefined;
        }
        passphrase = answer.value;
        remember = answer.remember;
      }
      if (!(ssh2().utils.parseKey(data, passphrase) instanceof Error)) {
        ctx.sessionSecrets.set(key, passphrase);
        if (remember) toRemember.set(key, passphrase);
        return { type: 'publickey', username, key: data, passphrase };
      }
      if (stored !== undefined) await ctx.secrets.delete(key);
      ctx.sessionSecrets.delete(key);
      stored = undefined;
      retry = true;
      ctx.logger.warn(`${ctx.unitLabel}: wrong passphrase for ${file}`);
    }
    return undefined;
  }

  let passwordPrompts = 0;
  let storedPasswordTried = false;
  async function passwordAttempt(): Promise<Parameters<NextAuthHandler>[0] | undefined> {
    if (!storedPasswordTried) {
      storedPasswordTried = true;
      const stored = ctx.sessionSecrets.get(pwKey) ?? (await ctx.secrets.get(pwKey));
      if (stored !== undefined) return { type: 'password', username, password: stored };
    } else if (passwordPrompts === 0) {
      // The stored password was refused: forget it so it is not tried again.
      await ctx.secrets.delete(pwKey);
      ctx.sessionSecrets.delete(pwKey);
    }
    if (!ctx.interactive || passwordPrompts >= MAX_PASSWORD_PROMPTS) return undefined;
    const retry = passwordPrompts > 0 || triedMethods.includes('password');
    passwordPrompts++;
    const answer = await ctx.whilePrompting(() => ctx.prompts.askSecret({ kind: 'password', unit: ctx.unitLabel, prompt: `Password for ${username}@${ctx.host}`, retry }));
    if (!answer) {
      failure = new SshError('auth-cancelled', `${ctx.unitLabel}: no password given; connection cancelled.`);
      return undefined;
    }
    ctx.sessionSecrets.set(pwKey, answer.value);
    toRemember.delete(pwKey);
    if (answer.remember) toRemember.set(pwKey, answer.value);
    return { type: 'password', username, password: answer.value };
  }

  let kbdiTried = false;
  function kbdiAttempt(): Parameters<NextAuthHandler>[0] | undefined {
    if (kbdiTried || !ctx.interactive) return undefined;
    kbdiTried = true;
    return {
      type: 'keyboard-interactive',
      username,
      prompt: (name, instructions, _lang, prompts, finish) => {
        if (prompts.length === 0) return finish([]);
        void ctx
          .whilePrompting(() => ctx.prompts.askKeyboardInteractive({ unit: ctx.unitLabel, name, instructions, prompts: prompts.map((p) => ({ prompt: p.prompt, echo: !!p.echo })) }))
          .then((answers) => {
            if (!answers) failure = new SshError('auth-cancelled', `${ctx.unitLabel}: keyboard-interactive login cancelled.`);
            finish(answers ?? prompts.map(() => ''));
          });
      },
    };
  }

  const handler: AuthHandlerMiddleware = (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, callback: NextAuthHandler) => {
    void (async () => {
      const allowed = (m: string) => methodsLeft === null || methodsLeft.includes(m as AuthenticationType);
      if (failure) return callback(STOP);
      while (attempts.length) {
        const a = attempts.shift()!;
        const wire = a.method === 'agent' ? 'publickey' : a.method;
        if (!allowed(wire)) continue;
        const next = await a.next();
        if (failure) return callback(STOP);
        if (next) {
          last = a.method;
          triedMethods.push(a.method);
          return callback(next);
        }
      }
      if (allowed('password')) {
        const next = await passwordAttempt();
        if (failure) return callback(STOP);
        if (next) {
          last = 'password';
          triedMethods.push('password');
          return callback(next);
        }
      }
      if (allowed('keyboard-interactive')) {
        const next = kbdiAttempt();
        if (next) {
          last = 'keyboard-interactive';
          triedMethods.push('keyboard-interactive');
          return callback(next);
        }
      }
      callback(STOP);
    })().catch((err) => {
      failure = new SshError('config', `${ctx.unitLabel}: authentication could not proceed: ${(err as Error).message}`);
      callback(STOP);
    });
  };

  return {
    handler,
    lastMethod: () => last,
    tried: () => [...new Set(triedMethods)],
    failure: () => failure,
    async commit() {
      for (const [k, v] of toRemember) await ctx.secrets.store(k, v);
      toRemember.clear();
    },
  };
}
