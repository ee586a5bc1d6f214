// Host keys for tests: a fresh random ed25519 public key blob in SSH wire format.
import * as crypto from 'crypto';

export function ed25519Blob(): Buffer {
  const type = Buffer.from('ssh-ed25519');
  const key = crypto.randomBytes(32);
  const len = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  return Buffer.concat([len(type.length), type, len(key.length), key]);
}
