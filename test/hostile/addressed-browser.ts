import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

/**
 * A cookie-keeping browser stand-in over `app.inject` that comes from a client address of
 * its own, as separate people do: the install routes are rate limited per address.
 */
let nextHost = 1;

/** A fresh address in 10.0.0.0/8, unique within this test file. */
export function freshAddress(): string {
  const n = nextHost++;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

export class AddressedBrowser {
  readonly cookies = new Map<string, string>();
  readonly address: string;
  private readonly app: FastifyInstance;

  constructor(app: FastifyInstance, address = freshAddress()) {
    this.app = app;
    this.address = address;
  }

  /** The same browser (its cookies) seen from another address, as after a network change. */
  elsewhere(): AddressedBrowser {
    const moved = new AddressedBrowser(this.app);
    for (const [name, value] of this.cookies) moved.cookies.set(name, value);
    return moved;
  }

  async get(url: string): Promise<LightMyRequestResponse> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await this.app.inject({
      method: 'GET',
      url,
      remoteAddress: this.address,
      headers: cookie ? { cookie } : {},
    });
    for (const set of response.cookies) {
      if (set.value === '' || (set.maxAge !== undefined && set.maxAge <= 0))
        this.cookies.delete(set.name);
      else this.cookies.set(set.name, set.value);
    }
    return response;
  }
}
