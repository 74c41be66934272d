import { DomainError } from '../../platform/errors.ts';

/** A 503: HubSpot retries 5xx answers of a workflow action with backoff. */
export class ServiceUnavailableError extends DomainError {
  constructor(message = 'The request could not be processed right now; retry later') {
    super('temporarily_unavailable', message, 503);
  }
}
