/**
 * Typed domain errors with stable snake_case codes. Core code throws these; the HTTP layer
 * maps them to statuses and `{ "error": { "code", "message" } }` bodies, and the CLI prints
 * them. Messages are written for the person reading them and never carry secrets.
 */
export class DomainError extends Error {
  readonly code: string;
  readonly httpStatus: number;
  readonly details: unknown;

  constructor(code: string, message: string, httpStatus: number, details?: unknown) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.httpStatus = httpStatus;
    this.details = details;
  }
}

export class NotFoundError extends DomainError {
  constructor(code: string, message: string) {
    super(code, message, 404);
  }
}

export class ValidationError extends DomainError {
  constructor(message: string, details?: unknown, code = 'invalid_request') {
    super(code, message, 400, details);
  }
}

export class UnauthorizedError extends DomainError {
  constructor(code: string, message: string) {
    super(code, message, 401);
  }
}

export class ConflictError extends DomainError {
  constructor(code: string, message: string, details?: unknown) {
    super(code, message, 409, details);
  }
}
