import { useState } from 'react';
import {
  Alert,
  Button,
  Flex,
  Heading,
  Input,
  LoadingButton,
  Select,
  Text,
} from '@hubspot/ui-extensions';

import { SETTINGS_TIMEOUT_MS } from './api-schemas.ts';
import { callBackend } from './backend.ts';
import {
  PRIMARY_COMPANY_PATH,
  PrimaryCompanyDataSchema,
  type PrimaryCompanyData,
} from './field-mapping-schemas.ts';

/**
 * For a deal with several companies and none marked primary in HubSpot: the admin picks the
 * one a send takes as the counterparty (LexiContract never guesses).
 */

const SOURCES: Record<string, string> = {
  hubspot_primary: 'primary in HubSpot',
  admin_choice: 'chosen here',
  only_company: 'the deal’s only company',
};

export function PrimaryCompanyChoice() {
  const [dealId, setDealId] = useState('');
  const [data, setData] = useState<PrimaryCompanyData | null>(null);
  const [choice, setChoice] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  const lookUp = () => {
    setBusy(true);
    setProblem(null);
    void callBackend(
      {
        path: `${PRIMARY_COMPANY_PATH}?dealId=${encodeURIComponent(dealId.trim())}`,
        timeoutMs: SETTINGS_TIMEOUT_MS,
      },
      PrimaryCompanyDataSchema,
    )
      .then((result) => {
        if (result.ok) {
          setData(result.data);
          setChoice(result.data.primaryCompany?.id ?? '');
        } else {
          setProblem(result.message);
        }
      })
      .finally(() => {
        setBusy(false);
      });
  };

  const save = () => {
    if (!data || choice === '') return;
    setBusy(true);
    setProblem(null);
    void callBackend(
      {
        path: PRIMARY_COMPANY_PATH,
        method: 'PUT',
        timeoutMs: SETTINGS_TIMEOUT_MS,
        body: { dealId: data.dealId, companyId: choice },
      },
      PrimaryCompanyDataSchema,
    )
      .then((result) => {
        if (result.ok) setData(result.data);
        else setProblem(result.message);
      })
      .finally(() => {
        setBusy(false);
      });
  };

  const current = data?.companies.find((c) => c.id === data.primaryCompany?.id);
  return (
    <Flex direction="column" gap="sm">
      <Heading>Counterparty of a deal with several companies</Heading>
      <Flex direction="row" gap="sm" align="end">
        <Input
          label="Deal ID"
          name="primaryCompanyDealId"
          testId="primary-deal-id"
          value={dealId}
          onChange={(value) => {
            setDealId(value);
          }}
        />
        <Button
          testId="primary-look-up"
          disabled={busy || !/^\d{1,20}$/.test(dealId.trim())}
          onClick={lookUp}
        >
          Look up
        </Button>
      </Flex>
      {problem !== null ? (
        <Alert title="Not possible" variant="danger" testId="primary-problem">
          {problem}
        </Alert>
      ) : null}
      {data !== null && !data.readable ? (
        <Alert title="Companies are not available" variant="warning" testId="primary-unreadable">
          Reconnect HubSpot to grant LexiContract read access to companies.
        </Alert>
      ) : null}
      {data !== null && data.readable ? (
        <>
          <Text testId="primary-current">
            {current
              ? `A send takes ${current.name ?? current.id} (${SOURCES[data.primaryCompany?.source ?? ''] ?? 'chosen'}).`
              : (data.problem ?? 'The deal has no company.')}
          </Text>
          {data.companies.length > 1 ? (
            <Flex direction="row" gap="sm" align="end">
              <Select
                label="Counterparty"
                name="primaryCompany"
                testId="primary-choice"
                value={choice}
                options={data.companies.map((c) => ({
                  label: `${c.name ?? c.id}${c.domain ? ` (${c.domain})` : ''}${c.primaryInHubSpot ? ' — primary in HubSpot' : ''}`,
                  value: c.id,
                }))}
                onChange={(value) => {
                  setChoice(typeof value === 'string' ? value : '');
                }}
              />
              <LoadingButton
                variant="secondary"
                loading={busy}
                disabled={busy || choice === ''}
                testId="primary-save"
                onClick={save}
              >
                Use as counterparty
              </LoadingButton>
            </Flex>
          ) : null}
        </>
      ) : null}
    </Flex>
  );
}
