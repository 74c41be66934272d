import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

/**
 * A cookie-keeping browser stand-in over `app.inject`, for server-rendered pages: it keeps
 * Set-Cookie values between requests and can pull the CSRF token out of a form.
 */
/** What a browser sends when it navigates: error answers are then pages, as a person sees them. */
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

export class WebClient {
  readonly cookies = new Map<string, string>();

  private readonly app: FastifyInstance;

  constructor(app: FastifyInstance) {
    this.app = app;
  }

  private cookieHeader(): string | undefined {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private remember(response: LightMyRequestResponse): void {
    for (const cookie of response.cookies) {
      if (cookie.value === '' || (cookie.maxAge !== undefined && cookie.maxAge <= 0))
        this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
  }

  async get(url: string): Promise<LightMyRequestResponse> {
    const cookie = this.cookieHeader();
    const response = await this.app.inject({
      method: 'GET',
      url,
      headers: { accept: BROWSER_ACCEPT, ...(cookie ? { cookie } : {}) },
    });
    this.remember(response);
    return response;
  }

  async postMultipart(
    url: string,
    body: { payload: Buffer; contentType: string },
  ): Promise<LightMyRequestResponse> {
    const cookie = this.cookieHeader();
    const response = await this.app.inject({
      method: 'POST',
      url,
      headers: {
        accept: BROWSER_ACCEPT,
        'content-type': body.contentType,
        ...(cookie ? { cookie } : {}),
      },
      payload: body.payload,
    });
    this.remember(response);
    return response;
  }

  async postForm(url: string, form: Record<string, string>): Promise<LightMyRequestResponse> {
    const cookie = this.cookieHeader();
    const response = await this.app.inject({
      method: 'POST',
      url,
      headers: {
        accept: BROWSER_ACCEPT,
        'content-type': 'application/x-www-form-urlencoded',
        ...(cookie ? { cookie } : {}),
      },
      payload: new URLSearchParams(form).toString(),
    });
    this.remember(response);
    return response;
  }
}

/** A multipart form body: text fields, then one file part. */
export function multipartForm(
  fields: Record<string, string>,
  file: { name: string; fileName: string; body: Buffer },
): { payload: Buffer; contentType: string } {
  const boundary = '----lexicontract-web-test';
  const parts = Object.entries(fields).map(
    ([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`,
  );
  const payload = Buffer.concat([
    Buffer.from(parts.join('')),
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${file.name}"; filename="${file.fileName}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    file.body,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, contentType: `multipart/form-data; boundary=${boundary}` };
}

export function csrfFrom(body: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(body);
  if (!match?.[1]) throw new Error('no CSRF token in page');
  return match[1];
}
