import { useCallback, useEffect, useState } from 'react';
import {
  Alert,
  Checkbox,
  Divider,
  EmptyState,
  Flex,
  Heading,
  Link,
  LoadingButton,
  LoadingSpinner,
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
  useExtensionContext,
} from '@hubspot/ui-extensions';

import {
  CARD_LOAD_TIMEOUT_MS,
  CARD_PATH,
  CARD_SEND_PATH,
  CARD_SEND_TIMEOUT_MS,
  CardDataSchema,
  CardSendResultSchema,
  RECONNECT_ERROR_CODES,
  type CardAttachment,
  type CardContract,
  type CardData,
  type CardReady,
} from './api-schemas.ts';
import { callBackend, newRequestId } from './backend.ts';
import {
  LoadFailed,
  NeedsReconnectAlert,
  STATUS_VARIANTS,
  WriteBackNotice,
  formatDate,
} from './card-parts.tsx';

hubspot.extend<'crm.record.tab'>(() => <LegalReviewCard />);

type Load =
  | { readonly kind: 'loading' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'data'; readonly data: CardData };

function formatSize(bytes: number | null): string {
  if (bytes === null) return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function preselection(data: CardData): string[] {
  return data.state === 'ready'
    ? data.attachments.filter((a) => a.importable && a.preselected).map((a) => a.id)
    : [];
}

/** The Legal review card on a deal record. */
export function LegalReviewCard() {
  const context = useExtensionContext<'crm.record.tab'>();
  const actions = useExtensionActions<'crm.record.tab'>();
  const dealId = String(context.crm.objectId);
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [selected, setSelected] = useState<string[]>([]);
  const [sending, setSending] = useState(false);

  // Bumped to load the card again (after a send, or on "Try again").
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => {
    setGeneration((n) => n + 1);
  }, []);

  useEffect(() => {
    let current = true;
    void callBackend(
      {
        path: `${CARD_PATH}?dealId=${encodeURIComponent(dealId)}`,
        timeoutMs: CARD_LOAD_TIMEOUT_MS,
      },
      CardDataSchema,
    ).then((result) => {
      if (!current) return;
      if (result.ok) {
        setLoad({ kind: 'data', data: result.data });
        setSelected(preselection(result.data));
      } else {
        setLoad({ kind: 'error', message: result.message });
      }
    });
    return () => {
      current = false;
    };
  }, [dealId, generation]);

  const send = async (data: CardReady) => {
    const newVersion = data.openContractId !== null;
    setSending(true);
    const result = await callBackend(
      {
        path: CARD_SEND_PATH,
        method: 'POST',
        timeoutMs: CARD_SEND_TIMEOUT_MS,
        body: {
          dealId: data.deal.id,
          fileIds: selected,
          newVersion,
          requestId: newRequestId(),
        },
      },
      CardSendResultSchema,
    );
    setSending(false);
    if (result.ok) {
      actions.addAlert({
        type: 'success',
        title: newVersion ? 'New version sent' : 'Sent to legal review',
        message: result.data.message,
      });
      // The backend wrote lexicontract_status onto the deal (through its sync): show it.
      actions.refreshObjectProperties();
      reload();
      return;
    }
    actions.addAlert({ type: 'danger', title: 'Not sent', message: result.message });
    if (RECONNECT_ERROR_CODES.includes(result.code)) reload();
  };

  if (load.kind === 'loading') {
    return <LoadingSpinner label="Loading legal review…" layout="centered" testId="loading" />;
  }
  if (load.kind === 'error') {
    return (
      <LoadFailed
        title="Legal review could not be loaded"
        message={load.message}
        onRetry={() => {
          setLoad({ kind: 'loading' });
          reload();
        }}
      />
    );
  }
  if (load.data.state === 'needs_reconnect') return <NeedsReconnectAlert data={load.data} />;
  const data = load.data;
  return (
    <Flex direction="column" gap="md">
      <WriteBackNotice notice={data.writeBackNotice} />
      <Contracts contracts={data.contracts} />
      <Divider />
      <Attachments
        data={data}
        selected={selected}
        onToggle={(id, checked) => {
          setSelected((current) =>
            checked ? [...new Set([...current, id])] : current.filter((x) => x !== id),
          );
        }}
      />
      <Flex direction="row" gap="sm" align="center">
        <LoadingButton
          variant="primary"
          loading={sending}
          disabled={sending}
          testId="send"
          onClick={() => {
            void send(data);
          }}
        >
          {data.openContractId !== null ? 'Send new version' : 'Send to Legal Review'}
        </LoadingButton>
        {data.attachments.length > 0 && selected.length === 0 ? (
          <Text variant="microcopy" testId="no-selection">
            No attachment selected: the contract is created without files.
          </Text>
        ) : null}
      </Flex>
    </Flex>
  );
}

function Contracts({ contracts }: { contracts: readonly CardContract[] }) {
  if (contracts.length === 0) {
    return (
      <EmptyState title="Not sent to legal review yet" layout="horizontal" flush testId="empty">
        <Text>
          Send this deal to LexiContract: legal reviews the contract there, and its status shows
          here and on the deal.
        </Text>
      </EmptyState>
    );
  }
  return (
    <Flex direction="column" gap="xs">
      <Heading>Contracts</Heading>
      <Table bordered={false} testId="contracts">
        <TableHead>
          <TableRow>
            <TableHeader>Contract</TableHeader>
            <TableHeader>Status</TableHeader>
            <TableHeader>Last change</TableHeader>
          </TableRow>
        </TableHead>
        <TableBody>
          {contracts.map((contract) => (
            <TableRow key={contract.id}>
              <TableCell>
                <Link href={contract.url} testId={`contract-link-${contract.id}`}>
                  {contract.title}
                </Link>
              </TableCell>
              <TableCell>
                <Flex direction="row" gap="xs">
                  <StatusTag
                    variant={STATUS_VARIANTS[contract.status]}
                    testId={`status-${contract.id}`}
                  >
                    {contract.statusLabel}
                  </StatusTag>
                  {contract.importState === 'importing' ? (
                    <StatusTag variant="default" hollow>
                      Importing files
                    </StatusTag>
                  ) : null}
                  {contract.importState === 'failed' ? (
                    <StatusTag variant="danger" hollow>
                      Import failed
                    </StatusTag>
                  ) : null}
                </Flex>
              </TableCell>
              <TableCell>{formatDate(contract.lastChangedAt)}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </Flex>
  );
}

function Attachments({
  data,
  selected,
  onToggle,
}: {
  data: CardReady;
  selected: readonly string[];
  onToggle: (id: string, checked: boolean) => void;
}) {
  return (
    <Flex direction="column" gap="xs">
      <Heading>Attachments</Heading>
      {data.attachmentsError !== null ? (
        <Alert title="Attachments unavailable" variant="warning" testId="attachments-error">
          {data.attachmentsError}
        </Alert>
      ) : null}
      {data.attachments.length === 0 && data.attachmentsError === null ? (
        <Text testId="no-attachments">
          No attachments on this deal. Files attached to the deal’s notes are listed here.
        </Text>
      ) : null}
      {data.attachments.map((attachment: CardAttachment) => (
        <Checkbox
          key={attachment.id}
          name={`file-${attachment.id}`}
          value={attachment.id}
          testId={`file-${attachment.id}`}
          checked={attachment.importable && selected.includes(attachment.id)}
          readOnly={!attachment.importable}
          description={attachment.note ?? formatSize(attachment.sizeBytes)}
          onChange={(checked: boolean) => {
            if (attachment.importable) onToggle(attachment.id, checked);
          }}
        >
          {attachment.name}
        </Checkbox>
      ))}
    </Flex>
  );
}
