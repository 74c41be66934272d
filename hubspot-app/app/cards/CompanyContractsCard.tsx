import { useCallback, useEffect, useState } from 'react';
import {
  Alert,
  EmptyState,
  Flex,
  Link,
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
  useExtensionContext,
} from '@hubspot/ui-extensions';

import { callBackend } from './backend.ts';
import { LoadFailed, NeedsReconnectAlert, STATUS_VARIANTS, formatDate } from './card-parts.tsx';
import {
  COMPANY_CARD_LOAD_TIMEOUT_MS,
  COMPANY_CARD_PATH,
  CompanyCardDataSchema,
  type CompanyCardData,
  type CompanyCardNeedsScope,
  type CompanyCardReady,
} from './company-api-schemas.ts';

hubspot.extend<'crm.record.tab'>(() => <CompanyContractsCard />);

type Load =
  | { readonly kind: 'loading' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'data'; readonly data: CompanyCardData };

/** The Contracts card on a company record: every contract across the company's deals. */
export function CompanyContractsCard() {
  const context = useExtensionContext<'crm.record.tab'>();
  const companyId = String(context.crm.objectId);
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => {
    setGeneration((n) => n + 1);
  }, []);

  useEffect(() => {
    let current = true;
    void callBackend(
      {
        path: `${COMPANY_CARD_PATH}?companyId=${encodeURIComponent(companyId)}`,
        timeoutMs: COMPANY_CARD_LOAD_TIMEOUT_MS,
      },
      CompanyCardDataSchema,
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
  }, [companyId, generation]);

  if (load.kind === 'loading') {
    return <LoadingSpinner label="Loading contracts…" layout="centered" testId="loading" />;
  }
  if (load.kind === 'error') {
    return (
      <LoadFailed
        title="Contracts could not be loaded"
        message={load.message}
        onRetry={() => {
          setLoad({ kind: 'loading' });
          reload();
        }}
      />
    );
  }
  const data = load.data;
  if (data.state === 'needs_reconnect') return <NeedsReconnectAlert data={data} />;
  if (data.state === 'needs_scope') return <NeedsScope data={data} />;
  return <Contracts data={data} />;
}

function NeedsScope({ data }: { data: CompanyCardNeedsScope }) {
  return (
    <Alert title="Re-authorize to see company contracts" variant="info" testId="needs-scope">
      <Flex direction="column" gap="xs">
        <Text>{data.message}</Text>
        <Link href={data.reauthorizeUrl} testId="reauthorize-link">
          Re-authorize LexiContract in HubSpot
        </Link>
      </Flex>
    </Alert>
  );
}

function Contracts({ data }: { data: CompanyCardReady }) {
  if (data.contracts.length === 0) {
    return (
      <EmptyState title="No contracts yet" layout="horizontal" flush testId="empty">
        <Text>
          {data.dealCount === 0
            ? 'This company has no deals. Contracts show here once its deals are sent to legal review.'
            : 'None of this company’s deals has been sent to legal review yet.'}
        </Text>
      </EmptyState>
    );
  }
  return (
    <Flex direction="column" gap="xs">
      <Table bordered={false} testId="contracts">
        <TableHead>
          <TableRow>
            <TableHeader>Contract</TableHeader>
            <TableHeader>Status</TableHeader>
            <TableHeader>Last change</TableHeader>
          </TableRow>
        </TableHead>
        <TableBody>
          {data.contracts.map((contract) => (
            <TableRow key={contract.id}>
              <TableCell>
                <Link href={contract.url} testId={`contract-link-${contract.id}`}>
                  {contract.title}
                </Link>
              </TableCell>
              <TableCell>
                <StatusTag
                  variant={STATUS_VARIANTS[contract.status]}
                  testId={`status-${contract.id}`}
                >
                  {contract.statusLabel}
                </StatusTag>
              </TableCell>
              <TableCell>{formatDate(contract.lastChangedAt)}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      <Text variant="microcopy" testId="summary">
        {data.truncated
          ? `The ${data.contracts.length} most recently changed contracts across ${data.dealCount} deals; open LexiContract for the rest.`
          : `${data.contracts.length === 1 ? '1 contract' : `${data.contracts.length} contracts`} across ${data.dealCount === 1 ? '1 deal' : `${data.dealCount} deals`}.`}
      </Text>
    </Flex>
  );
}
