// One connection per unit, shared by every feature. Settings changes drop and rebuild exactly the
// connections whose address changed.
import { EventEmitter } from 'events';
import type { UnitConfig } from '../config';
import { ConnectionOptions, ConnectionState, UnitConnection } from './connection';
import { SshError } from './errors';

function addressOf(unit: UnitConfig): string {
  return JSON.stringify([unit.host, unit.port ?? null, unit.username ?? null, unit.identityFile ?? null, unit.algorithms ?? null]);
}

export class ConnectionPool extends EventEmitter {
  private readonly connections = new Map<string, { address: string; connection: UnitConnection }>();
  private readonly sessionSecrets = new Map<string, string>();
  private readonly sessionTrust = new Set<string>();
  private optionsValue: ConnectionOptions;
  /** Addresses of the configured units (from update()); undefined until the first update. */
  private configured: Map<string, string> | undefined;

  constructor(options: ConnectionOptions) {
    super();
    this.optionsValue = options;
  }

  /**
   * The pooled connection of a unit (not connected until used). Only update() (the settings)
   * changes where a unit's connection goes: a unit config with another address than the
   * configured one — a stale or forged argument — is refused, never connected to.
   */
  get(unit: UnitConfig): UnitConnection {
    const address = addressOf(unit);
    const existing = this.connections.get(unit.key);
    if (existing && existing.address === address) return existing.connection;
    const wanted = this.configured?.get(unit.key);
    if (existing || (this.configured && wanted !== address)) {
      throw new SshError('config', `${unit.key}: ${wanted === undefined ? 'is not a configured unit' : 'this is not the address configured for the unit in the settings'}; refusing to connect.`);
    }
    const connection = new UnitConnection(
      { label: unit.key, host: unit.host, port: unit.port, username: unit.username, identityFile: unit.identityFile, algorithms: unit.algorithms },
      { ...this.optionsValue, sessionSecrets: this.sessionSecrets, sessionTrust: this.sessionTrust },
    );
    connection.on('state', (state: ConnectionState, error?: SshError) => this.emit('state', unit.key, state, error));
    this.connections.set(unit.key, { address, connection });
    return connection;
  }

  /**
   * A connection outside the pool for a unit that is not (yet) in the settings — Add Cluster's
   * test before saving. Never pooled, never handed out by get(); the caller closes it.
   */
  probe(unit: UnitConfig): UnitConnection {
    return new UnitConnection(
      { label: unit.key, host: unit.host, port: unit.port, username: unit.username, identityFile: unit.identityFile, algorithms: unit.algorithms },
      { ...this.optionsValue, sessionSecrets: this.sessionSecrets, sessionTrust: this.sessionTrust },
    );
  }

  /** The connection of a unit if one was made. */
  peek(unitKey: string): UnitConnection | undefined {
    return this.connections.get(unitKey)?.connection;
  }

  /**
   * Applies new settings: connections of units that are gone or whose address changed are closed
   * (their operations fail with a clear error); options changes (known_hosts file) rebuild all.
   */
  update(units: readonly UnitConfig[], options?: ConnectionOptions): void {
    this.configured = new Map(units.map((u) => [u.key, addressOf(u)]));
    if (options) {
      this.optionsValue = options;
      for (const { connection } of this.connections.values()) connection.close();
      this.connections.clear();
      return;
    }
    const wanted = new Map(units.map((u) => [u.key, addressOf(u)]));
    for (const [key, entry] of this.connections) {
      if (wanted.get(key) !== entry.address) {
        entry.connection.close();
        this.connections.delete(key);
        this.emit('state', key, 'idle');
      }
    }
  }

  dispose(): void {
    for (const { connection } of this.connections.values()) connection.close();
    this.connections.clear();
    this.sessionSecrets.clear();
  }
}
