import { useCallback, useEffect, useState } from 'react';
import {
  Alert,
  Button,
  DescriptionList,
  DescriptionListItem,
  Divider,
  ErrorState,
  Flex,
  Form,
  Heading,
  Input,
  Link,
  LoadingButton,
  LoadingSpinner,
  Select,
  StatusTag,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
  Text,
  hubspot,
  useExtensionActions,
} from '@hubspot/ui-extensions';

import {
  RetryResultSchema,
  SETTINGS_OPTIONS_PATH,
  SETTINGS_PATH,
  SETTINGS_RETRY_PATH,
  SETTINGS_TIMEOUT_MS,
  SettingsDataSchema,
  SettingsOptionsSchema,
  type ClosedLostBehavior,
  type Connection,
  type SettingsData,
  type SettingsOptions,
  type SyncHealth,
} from './api-schemas.ts';
import { callBackend } from './backend.ts';
import { ReturnPathSection } from './ReturnPathSection.tsx';
import { FieldMappingSection } from './FieldMappingSection.tsx';
import { RoutingSection } from './RoutingSection.tsx';

hubspot.extend<'settings'>(() => <SettingsPage />);

type Load =
  | { readonly kind: 'loading' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'data'; readonly data: SettingsData };

function formatDate(iso: string | null): string {
  if (iso === null) return 'Never';
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

const CONNECTION_TAGS: Record<
  Connection['state'],
  { label: string; variant: 'success' | 'warning' | 'danger' }
> = {
  connected: { label: 'Connected', variant: 'success' },
  needs_reconnect: { label: 'Needs reconnect', variant: 'warning' },
  not_connected: { label: 'Not connected', variant: 'danger' },
};

/** The app's settings page: connection, sync health and the options of this account. */
export function SettingsPage() {
  const actions = useExtensionActions<'settings'>();
  const [load, setLoad] = useState<Load>({ kind: 'loading' });

  // Bumped to load the page again (after a retry, or on "Try again").
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => {
    setGeneration((n) => n + 1);
  }, []);

  useEffect(() => {
    let current = true;
    void callBackend(
      { path: SETTINGS_PATH, timeoutMs: SETTINGS_TIMEOUT_MS },
      SettingsDataSchema,
    ).then((result) => {
      if (!current) return;
      setLoad(
        result.ok
          ? { kind: 'data', data: result.data }
          : { kind: 'error', message: result.message },
      );
    });
    return () => {
      current = false;
    };
  }, [generation]);

  if (load.kind === 'loading') {
    return (
      <LoadingSpinner label="Loading LexiContract settings…" layout="centered" testId="loading" />
    );
  }
  if (load.kind === 'error') {
    return (
      <ErrorState title="The settings could not be loaded" testId="error">
        <Text>{load.message}</Text>
        <Button
          testId="retry-load"
          onClick={() => {
            setLoad({ kind: 'loading' });
            reload();
          }}
        >
          Try again
        </Button>
      </ErrorState>
    );
  }
  const { connection, health, options, returnPath } = load.data;
  return (
    <Flex direction="column" gap="lg">
      <ConnectionSection connection={connection} />
      {health !== null ? (
        <>
          <Divider />
          <HealthSection
            health={health}
            onRetry={async () => {
              const result = await callBackend(
                { path: SETTINGS_RETRY_PATH, method: 'POST', timeoutMs: SETTINGS_TIMEOUT_MS },
                RetryResultSchema,
              );
              if (result.ok) {
                actions.addAlert({
                  type: 'success',
                  title: 'Retry started',
                  message:
                    result.data.retried === 1
                      ? '1 deal update was queued again.'
                      : `${result.data.retried} deal updates were queued again.`,
                });
                reload();
              } else {
                actions.addAlert({
                  type: 'danger',
                  title: 'Retry failed',
                  message: result.message,
                });
              }
            }}
          />
        </>
      ) : null}
      {options !== null ? (
        <>
          <Divider />
          <OptionsSection
            initial={options}
            onSave={async (next) => {
              const result = await callBackend(
                {
                  path: SETTINGS_OPTIONS_PATH,
                  method: 'PUT',
                  timeoutMs: SETTINGS_TIMEOUT_MS,
                  body: next,
                },
                SettingsOptionsSchema,
              );
              if (result.ok) {
                actions.addAlert({
                  type: 'success',
                  title: 'Saved',
                  message: 'The LexiContract options were saved.',
                });
                setLoad({ kind: 'data', data: { ...load.data, options: result.data } });
              } else {
                actions.addAlert({ type: 'danger', title: 'Not saved', message: result.message });
              }
            }}
          />
        </>
      ) : null}
      {returnPath ? (
        <>
          <Divider />
          <ReturnPathSection initial={returnPath} notice={connection.writeBackNotice ?? null} />
        </>
      ) : null}
      {options !== null ? <FieldMappingSection /> : null}
      {options !== null ? <RoutingSection /> : null}
    </Flex>
  );
}

function ConnectionSection({ connection }: { connection: Connection }) {
  const tag = CONNECTION_TAGS[connection.state];
  return (
    <Flex direction="column" gap="sm">
      <Flex direction="row" gap="sm" align="center">
        <Heading>Connection</Heading>
        <StatusTag variant={tag.variant} testId="connection-state">
          {tag.label}
        </StatusTag>
      </Flex>
      {connection.state === 'not_connected' ? (
        <Alert title="Connect LexiContract" variant="warning" testId="not-connected">
          This HubSpot account is not connected to a LexiContract organization yet. Connect it to
          send deals to legal review.
        </Alert>
      ) : null}
      {connection.state === 'needs_reconnect' ? (
        <Alert title="Reconnect LexiContract" variant="danger" testId="needs-reconnect">
          {connection.lastError ?? 'HubSpot no longer accepts the stored authorization.'} Reconnect
          to resume sending deals and syncing statuses.
        </Alert>
      ) : null}
      <DescriptionList direction="row">
        <DescriptionListItem label="HubSpot account">{connection.portalId}</DescriptionListItem>
        <DescriptionListItem label="LexiContract organization">
          {connection.organizationName ?? '—'}
        </DescriptionListItem>
        <DescriptionListItem label="Installed by">
          {connection.installerEmail ?? '—'}
        </DescriptionListItem>
        <DescriptionListItem label="Connected">
          {formatDate(connection.connectedAt)}
        </DescriptionListItem>
      </DescriptionList>
      <Flex direction="row" gap="md">
        {connection.state !== 'connected' ? (
          <Link href={connection.installUrl} testId="install-link">
            {connection.state === 'not_connected'
              ? 'Connect HubSpot to LexiContract'
              : 'Reconnect HubSpot'}
          </Link>
        ) : null}
        <Link href={connection.manageUrl} testId="manage-link">
          Manage the connection in LexiContract
        </Link>
      </Flex>
    </Flex>
  );
}

function HealthSection({ health, onRetry }: { health: SyncHealth; onRetry: () => Promise<void> }) {
  const [retrying, setRetrying] = useState(false);
  return (
    <Flex direction="column" gap="sm">
      <Heading>Sync health</Heading>
      <DescriptionList direction="row">
        <DescriptionListItem label="Last change received from HubSpot">
          {formatDate(health.lastInboundAt)}
        </DescriptionListItem>
        <DescriptionListItem label="Last status written to a deal">
          {formatDate(health.lastOutboundAt)}
        </DescriptionListItem>
        <DescriptionListItem label="Waiting">{String(health.pendingCount)}</DescriptionListItem>
        <DescriptionListItem label="Failed">{String(health.failedCount)}</DescriptionListItem>
      </DescriptionList>
      {health.causes.length > 0 ? (
        <Text testId="causes">
          Causes: {health.causes.map((c) => `${c.cause} (${String(c.count)})`).join(', ')}
        </Text>
      ) : null}
      {health.failures.length > 0 ? (
        <Table testId="failures">
          <TableHead>
            <TableRow>
              <TableHeader>Deal</TableHeader>
              <TableHeader>Cause</TableHeader>
              <TableHeader>When</TableHeader>
            </TableRow>
          </TableHead>
          <TableBody>
            {health.failures.map((failure) => (
              <TableRow key={failure.dealId}>
                <TableCell>{failure.dealId}</TableCell>
                <TableCell>{failure.cause}</TableCell>
                <TableCell>{formatDate(failure.at)}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      ) : (
        <Text testId="no-failures">No failed deal updates.</Text>
      )}
      {health.failedCount > 0 ? (
        <LoadingButton
          variant="secondary"
          loading={retrying}
          disabled={retrying}
          testId="retry-failed"
          onClick={() => {
            setRetrying(true);
            void onRetry().finally(() => {
              setRetrying(false);
            });
          }}
        >
          Retry failed
        </LoadingButton>
      ) : null}
    </Flex>
  );
}

function OptionsSection({
  initial,
  onSave,
}: {
  initial: SettingsOptions;
  onSave: (options: SettingsOptions) => Promise<void>;
}) {
  const [closedLost, setClosedLost] = useState<ClosedLostBehavior>(initial.closedLostBehavior);
  const [mode, setMode] = useState<'all' | 'matching'>(initial.attachmentFilter.mode);
  const [pattern, setPattern] = useState(
    initial.attachmentFilter.mode === 'matching' ? initial.attachmentFilter.pattern : '',
  );
  const [saving, setSaving] = useState(false);
  const [patternMissing, setPatternMissing] = useState(false);

  const submit = () => {
    if (mode === 'matching' && pattern.trim() === '') {
      setPatternMissing(true);
      return;
    }
    setPatternMissing(false);
    setSaving(true);
    void onSave({
      closedLostBehavior: closedLost,
      attachmentFilter: mode === 'matching' ? { mode, pattern: pattern.trim() } : { mode: 'all' },
    }).finally(() => {
      setSaving(false);
    });
  };

  return (
    <Form onSubmit={submit} testId="options-form">
      <Flex direction="column" gap="sm">
        <Heading>Options</Heading>
        <Select
          label="When a deal moves to a closed-lost stage"
          name="closedLostBehavior"
          testId="closed-lost"
          value={closedLost}
          onChange={(value) => {
            setClosedLost(value === 'do_nothing' ? 'do_nothing' : 'cancel_contract');
          }}
          options={[
            { label: 'Cancel its open contracts in LexiContract', value: 'cancel_contract' },
            { label: 'Do nothing', value: 'do_nothing' },
          ]}
        />
        <Select
          label="Attachments to preselect and import"
          name="attachmentFilterMode"
          testId="filter-mode"
          value={mode}
          onChange={(value) => {
            setMode(value === 'matching' ? 'matching' : 'all');
          }}
          options={[
            { label: 'All importable attachments', value: 'all' },
            { label: 'Only attachments whose name matches a pattern', value: 'matching' },
          ]}
        />
        {mode === 'matching' ? (
          <Input
            label="Name pattern"
            name="attachmentNamePattern"
            testId="pattern"
            description="Use * for any characters, e.g. MSA* or *contract*.pdf"
            value={pattern}
            onChange={(value) => {
              setPattern(value);
            }}
            error={patternMissing}
            validationMessage={patternMissing ? 'Enter a name pattern.' : undefined}
          />
        ) : null}
        <LoadingButton
          type="submit"
          variant="primary"
          loading={saving}
          disabled={saving}
          testId="save"
        >
          Save
        </LoadingButton>
      </Flex>
    </Form>
  );
}
