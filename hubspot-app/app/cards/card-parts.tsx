import { Alert, Button, ErrorState, Flex, Link, Text } from '@hubspot/ui-extensions';

import type { CardNeedsReconnect, ContractStatus } from './api-schemas.ts';

/** Pieces the deal cards (tab and sidebar) and the company card share. */

export type TagVariant = 'danger' | 'warning' | 'info' | 'success' | 'default';

export const STATUS_VARIANTS: Record<ContractStatus, TagVariant> = {
  pending_review: 'info',
  in_review: 'info',
  changes_requested: 'warning',
  approved: 'success',
  signed: 'success',
  rejected: 'danger',
  cancelled: 'default',
};

export function formatDate(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** "Re-authorize to write files back": the portal lacks the optional write-back scopes. */
export function WriteBackNotice({
  notice,
}: {
  notice: { readonly message: string; readonly reauthorizeUrl: string } | null | undefined;
}) {
  if (!notice) return null;
  return (
    <Alert title="Re-authorize to write files back" variant="info" testId="write-back-notice">
      <Flex direction="column" gap="xs">
        <Text>{notice.message}</Text>
        <Link href={notice.reauthorizeUrl} testId="write-back-reauthorize">
          Re-authorize LexiContract in HubSpot
        </Link>
      </Flex>
    </Alert>
  );
}

/** The portal is not (or no longer) connected: say so and link where an admin fixes it. */
export function NeedsReconnectAlert({ data }: { data: CardNeedsReconnect }) {
  return (
    <Alert
      title={
        data.reason === 'not_connected' ? 'LexiContract is not connected' : 'Reconnect LexiContract'
      }
      variant="warning"
      testId="needs-reconnect"
    >
      <Flex direction="column" gap="xs">
        <Text>{data.message}</Text>
        <Link href={data.reconnectUrl} testId="reconnect-link">
          {data.reason === 'not_connected'
            ? 'Connect HubSpot in LexiContract'
            : 'Open LexiContract integrations'}
        </Link>
      </Flex>
    </Alert>
  );
}

/** A load that failed: what went wrong and a way to try again. */
export function LoadFailed({
  title,
  message,
  onRetry,
}: {
  title: string;
  message: string;
  onRetry: () => void;
}) {
  return (
    <ErrorState title={title} testId="error">
      <Text>{message}</Text>
      <Button testId="retry" onClick={onRetry}>
        Try again
      </Button>
    </ErrorState>
  );
}
