import { SANDBOX_STAGE_IDS } from './state.ts';
import type { SandboxControl } from './types.ts';

export const DEMO_PORTAL_ID = 24_681_357;

export interface DemoPortal {
  portalId: number;
  deals: {
    withAttachments: string;
    withoutAttachments: string;
    withSensitiveFile: string;
    /** Not yet in Legal Review: a seeded deal in that stage would have no contract. */
    readyForLegalReview: string;
  };
}

/**
 * The demo account sandbox mode shows: the "Sales Pipeline" (with "Legal Review" and
 * "Closed Lost" stages) and four deals — one with two PDFs and a DOCX, one without
 * attachments, one with a sensitive file, one ready for legal review. None is seeded in
 * Legal Review: a deal gets there through the workflow (or the card), which makes its contract.
 */
export function seedDemoPortal(control: SandboxControl): DemoPortal {
  const { portalId } = control.createPortal({
    portalId: DEMO_PORTAL_ID,
    name: 'Northwind Traders (demo)',
    domain: 'northwind-demo.sandbox.hubspot.test',
  });
  const s = SANDBOX_STAGE_IDS;
  const acme = control.createDeal(
    portalId,
    {
      dealname: 'Acme Corp — Enterprise MSA 2027',
      amount: '185000',
      deal_currency_code: 'USD',
      closedate: '2027-03-31T00:00:00.000Z',
    },
    { stageId: s.presentationScheduled },
  );
  control.attachNoteWithFiles(portalId, acme.id, [
    {
      name: 'Acme MSA draft v3.pdf',
      text: 'Master Services Agreement\nAcme Corp and Northwind Traders\nDraft v3',
    },
    { name: 'Acme Order Form.pdf', text: 'Order Form\n500 seats, 36 months' },
    { name: 'Acme DPA redlines.docx', text: 'Data Processing Addendum\nRedlines from Acme legal' },
  ]);
  const globex = control.createDeal(
    portalId,
    {
      dealname: 'Globex — Renewal 2027',
      amount: '42000',
      deal_currency_code: 'EUR',
      closedate: '2027-01-15T00:00:00.000Z',
    },
    { stageId: s.qualifiedToBuy },
  );
  const initech = control.createDeal(
    portalId,
    { dealname: 'Initech — Pilot SOW', amount: '12500', deal_currency_code: 'USD' },
    { stageId: s.appointmentScheduled },
  );
  control.attachNoteWithFiles(portalId, initech.id, [
    { name: 'Initech SOW.pdf', text: 'Statement of Work\nInitech pilot' },
    { name: 'Initech payroll export.pdf', access: 'HIDDEN_SENSITIVE', text: 'Sensitive' },
  ]);
  const umbrella = control.createDeal(
    portalId,
    { dealname: 'Umbrella Health — Platform License', amount: '96000', deal_currency_code: 'GBP' },
    { stageId: s.presentationScheduled },
  );
  control.attachNoteWithFiles(portalId, umbrella.id, [
    {
      name: 'Umbrella License Agreement.docx',
      text: 'Platform License Agreement\nUmbrella Health',
    },
  ]);
  return {
    portalId,
    deals: {
      withAttachments: acme.id,
      withoutAttachments: globex.id,
      withSensitiveFile: initech.id,
      readyForLegalReview: umbrella.id,
    },
  };
}
