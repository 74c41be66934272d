import { useCallback, useEffect, useState } from 'react';
import {
  Button,
  Flex,
  LoadingButton,
  LoadingSpinner,
  StatusTag,
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
  type CardContract,
  type CardData,
  type CardReady,
} from './api-schemas.ts';
import { callBackend, newRequestId } from './backend.ts';
import {
  NeedsReconnectAlert,
  STATUS_VARIANTS,
  WriteBackNotice,
  formatDate,
  LoadFailed,
} from './card-parts.tsx';

hubspot.extend<'crm.record.sidebar'>(() => <DealSidebarCard />);

type Load =
  | { readonly kind: 'loading' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'data'; readonly data: CardData };

/** The contract the sidebar is about: the one under review, else the newest. */
function currentContract(data: CardReady): CardContract | null {
  return data.contracts.find((c) => c.id === data.openContractId) ?? data.contracts.at(0) ?? null;
}

/**
 * The compact Legal review card in a deal's right sidebar: the current contract's status,
 * its last change, and one action (open it in LexiContract, or send the deal to legal
 * review). It reads the same signed endpoint as the tab card; attachment choice stays on
 * the tab card, so a send from here takes the portal's default attachment filter.
 */
export function DealSidebarCard() {
  const context = useExtensionContext<'crm.record.sidebar'>();
  const actions = useExtensionActions<'crm.record.sidebar'>();
  const dealId = String(context.crm.objectId);
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [sending, setSending] = useState(false);
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
      setLoad(
        result.ok
          ? { kind: 'data', data: result.data }
          : { kind: 'error', message: result.message },
      );
    });
    return () => {
      current = false;
    };
  }, [dealId, generation]);

  const send = async (data: CardReady) => {
    setSending(true);
    // No fileIds: the backend picks the attachments with the portal's default filter.
    const result = await callBackend(
      {
        path: CARD_SEND_PATH,
        method: 'POST',
        timeoutMs: CARD_SEND_TIMEOUT_MS,
        body: { dealId: data.deal.id, newVersion: false, requestId: newRequestId() },
      },
      CardSendResultSchema,
    );
    setSending(false);
    if (result.ok) {
      actions.addAlert({
        type: 'success',
        title: 'Sent to legal review',
        message: result.data.message,
      });
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
  const contract = currentContract(data);
  const sendButton = (
    <LoadingButton
      variant={contract ? 'secondary' : 'primary'}
      size="sm"
      loading={sending}
      disabled={sending}
      testId="send"
      onClick={() => {
        void send(data);
      }}
    >
      Send to Legal Review
    </LoadingButton>
  );
  const others = data.contracts.length - (contract ? 1 : 0);
  return (
    <Flex direction="column" gap="sm">
      {contract ? (
        <Flex direction="column" gap="xs">
          <Text format={{ fontWeight: 'demibold' }} truncate testId="contract-title">
            {contract.title}
          </Text>
          <Flex direction="row" gap="xs" align="center">
            <StatusTag variant={STATUS_VARIANTS[contract.status]} testId="status">
              {contract.statusLabel}
            </StatusTag>
          </Flex>
          <Text variant="microcopy" testId="last-change">
            Last change {formatDate(contract.lastChangedAt)}
          </Text>
        </Flex>
      ) : (
        <Text testId="not-sent">Not sent to legal review yet.</Text>
      )}
      <Flex direction="row" gap="xs" wrap="wrap">
        {contract ? (
          <Button
            variant="primary"
            size="sm"
            href={{ url: contract.url, external: true }}
            testId="open"
          >
            Open in LexiContract
          </Button>
        ) : null}
        {data.openContractId === null ? sendButton : null}
      </Flex>
      {others > 0 ? (
        <Text variant="microcopy" testId="more-contracts">
          {others === 1 ? '1 earlier contract' : `${others} earlier contracts`} on the Legal review
          tab.
        </Text>
      ) : null}
      <WriteBackNotice notice={data.writeBackNotice} />
    </Flex>
  );
}
