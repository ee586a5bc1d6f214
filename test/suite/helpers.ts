// Shared helpers for suites running inside the extension host.
import * as vscode from 'vscode';
import type { MailgwHaTestApi } from '../../src/extension';

export const EXTENSION_ID = 'mailgw-ha.mailgw-ha';

export async function activateExtension(): Promise<MailgwHaTestApi> {
  const ext = vscode.extensions.getExtension<MailgwHaTestApi>(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not loaded`);
  const api = await ext.activate();
  // The runner starts the extension with extensionTestsPath: VS Code's test mode, the only mode with this API.
  if (!api) throw new Error(`extension ${EXTENSION_ID} exported no test API: it is not running in VS Code's test mode`);
  return api;
}

/**
 * Polls `probe` until it returns a value other than undefined/false, or fails after `timeoutMs` saying
 * what was awaited, the last error the probe threw and, from `seen`, what the probe saw last.
 */
export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000, seen?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
      last = undefined;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const saw = seen ? `; ${seen()}` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}${saw}`);
}

/** What a tooltip's markdown shows: untrusted values in it are backslash-escaped (src/core/text/markdown.ts). */
export function shownMarkdown(value: string): string {
  return value.replace(/\\([!-/:-@[-`{-~])/g, '$1');
}
