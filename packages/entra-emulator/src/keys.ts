import {
  exportJWK,
  generateKeyPair,
  JWK,
  KeyLike,
  SignJWT,
  JWTPayload,
} from 'jose';
import { randomBytes } from 'node:crypto';

interface SigningKey {
  kid: string;
  privateKey: KeyLike;
  publicJwk: JWK;
}

/**
 * The emulator's token-signing keys (RS256). One key signs; retired keys stay in the JWKS until
 * dropped, as Entra keeps keys published across a rotation.
 */
export class SigningKeys {
  private keys: SigningKey[] = [];

  static async create(): Promise<SigningKeys> {
    const k = new SigningKeys();
    await k.rotate();
    return k;
  }

  /** Adds a new signing key; the previous ones stay published. Returns the new `kid`. */
  async rotate(): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', {
      extractable: true,
    });
    const kid = randomBytes(20).toString('base64url');
    const jwk = await exportJWK(publicKey);
    this.keys.unshift({
      kid,
      privateKey,
      publicJwk: { ...jwk, kid, kty: 'RSA', use: 'sig' },
    });
    return kid;
  }

  /** Removes every key but the current signing key from the JWKS. */
  dropRetired(): void {
    this.keys = this.keys.slice(0, 1);
  }

  get currentKid(): string {
    return this.keys[0].kid;
  }

  jwks(issuer?: string): { keys: JWK[] } {
    return {
      keys: this.keys.map(k => ({
        ...k.publicJwk,
        ...(issuer ? { issuer } : {}),
      })),
    };
  }

  publicJwk(kid: string): JWK | undefined {
    return this.keys.find(k => k.kid === kid)?.publicJwk;
  }

  async sign(payload: JWTPayload, typ = 'JWT'): Promise<string> {
    const key = this.keys[0];
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', typ, kid: key.kid })
      .sign(key.privateKey);
  }
}
