import { Alert, Link, LoadingButton, Text, hubspot } from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { CardDataSchema } from '../../hubspot-app/app/cards/api-schemas.ts';
import { LegalReviewCard } from '../../hubspot-app/app/cards/LegalReviewCard.tsx';
import { cardReadyWithOpenContract } from '../fixtures/hubspot-ui-extensions.ts';

const ORIGIN = 'https://lexicontract.example.com';
const CARD_URL = `${ORIGIN}/api/v1/integrations/hubspot/card?dealId=1001`;

const withNotice = {
  ...cardReadyWithOpenContract,
  writeBackNotice: {
    message:
      'LexiContract cannot put reviewed files on deals yet: re-authorize to write files back (it needs HubSpot Files and notes access). Everything else keeps working.',
    reauthorizeUrl: `${ORIGIN}/api/v1/integrations/hubspot/auth`,
  },
};

function renderWith(body: unknown) {
  vi.spyOn(hubspot, 'fetch').mockImplementation(async (url) => {
    if (String(url) !== CARD_URL) throw new Error(`unexpected hubspot.fetch ${String(url)}`);
    return new Response(JSON.stringify(body), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  });
  const renderer = createRenderer('crm.record.tab');
  renderer.mocks.context.crm.objectId = 1001;
  renderer.render(<LegalReviewCard />);
  return renderer;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('LegalReviewCard write-back notice', () => {
  it('says "re-authorize to write files back" with the re-authorization link, and still sends', async () => {
    expect(CardDataSchema.safeParse(withNotice).success).toBe(true);
    const renderer = renderWith(withNotice);
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(LoadingButton)).not.toBeNull();
    });
    const notice = renderer.findByTestId(Alert, 'write-back-notice');
    expect(notice.props.title).toBe('Re-authorize to write files back');
    expect(notice.find(Text).text).toContain('re-authorize to write files back');
    expect(renderer.findByTestId(Link, 'write-back-reauthorize').props.href).toBe(
      withNotice.writeBackNotice.reauthorizeUrl,
    );
    expect(renderer.find(LoadingButton).props.disabled).toBe(false);
  });

  it('shows no notice when the portal granted the write-back scopes', async () => {
    const renderer = renderWith(cardReadyWithOpenContract);
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(LoadingButton)).not.toBeNull();
    });
    expect(renderer.maybeFind(Alert, { testId: 'write-back-notice' })).toBeNull();
  });
});
