import { useState } from 'react';
import {
  Alert,
  Flex,
  Heading,
  Link,
  Text,
  Toggle,
  useExtensionActions,
} from '@hubspot/ui-extensions';

import {
  ReturnPathOptionsSchema,
  SETTINGS_RETURN_PATH_PATH,
  SETTINGS_TIMEOUT_MS,
  type Connection,
  type ReturnPathOptions,
} from './api-schemas.ts';
import { callBackend } from './backend.ts';

type Notice = NonNullable<Connection['writeBackNotice']>;

const SWITCHES: readonly {
  key: keyof ReturnPathOptions;
  label: string;
  description: string;
  testId: string;
}[] = [
  {
    key: 'writeBackFiles',
    label: 'Write reviewed files back to the deal',
    description:
      'On approval or signature, the newest reviewed files go to HubSpot Files and are attached to the deal through a note.',
    testId: 'write-back-files',
  },
  {
    key: 'timelineNotes',
    label: 'Timeline notes on the deal',
    description:
      'A note on the deal when it is sent to legal, when a new version is sent, and for each decision.',
    testId: 'timeline-notes',
  },
];

/**
 * "What comes back to HubSpot": the write-back and timeline switches, each saved as soon as
 * it is flipped (`PUT /settings/return-path`), and the re-authorization notice when the
 * portal has not granted the scopes they need.
 */
export function ReturnPathSection({
  initial,
  notice,
}: {
  initial: ReturnPathOptions;
  notice: Notice | null;
}) {
  const actions = useExtensionActions<'settings'>();
  const [options, setOptions] = useState<ReturnPathOptions>(initial);
  const [saving, setSaving] = useState(false);

  const flip = (key: keyof ReturnPathOptions, checked: boolean) => {
    const previous = options;
    const next = { ...options, [key]: checked };
    setOptions(next);
    setSaving(true);
    void callBackend(
      {
        path: SETTINGS_RETURN_PATH_PATH,
        method: 'PUT',
        timeoutMs: SETTINGS_TIMEOUT_MS,
        body: next,
      },
      ReturnPathOptionsSchema,
    )
      .then((result) => {
        if (result.ok) {
          setOptions(result.data);
          actions.addAlert({
            type: 'success',
            title: 'Saved',
            message: 'What LexiContract writes back to deals was saved.',
          });
        } else {
          setOptions(previous);
          actions.addAlert({ type: 'danger', title: 'Not saved', message: result.message });
        }
      })
      .finally(() => {
        setSaving(false);
      });
  };

  return (
    <Flex direction="column" gap="sm">
      <Heading>What comes back to HubSpot</Heading>
      {notice !== null ? (
        <Alert title="Re-authorize to write files back" variant="warning" testId="reauthorize">
          {notice.message}{' '}
          <Link href={notice.reauthorizeUrl} testId="reauthorize-link">
            Re-authorize LexiContract
          </Link>
        </Alert>
      ) : null}
      {SWITCHES.map((s) => (
        <Flex direction="column" gap="xs" key={s.key}>
          <Toggle
            label={s.label}
            name={s.key}
            testId={s.testId}
            checked={options[s.key]}
            readOnly={saving}
            onChange={(checked) => {
              flip(s.key, checked);
            }}
          />
          <Text variant="microcopy">{s.description}</Text>
        </Flex>
      ))}
    </Flex>
  );
}
